"""Deep Q-learning on gymnasium's CartPole-v1: replay memory and a target network.

    pip install gymnasium
    python -m ember.compat examples/dqn_cartpole.py [--episodes 300] [--device cuda]

The Q-network is a 4-128-128-2 MLP. Actions are epsilon-greedy (epsilon decays from 0.9 to
0.05); every step trains on a random batch from the replay memory against the target
network's estimate (Huber loss, AdamW), and the target network follows the Q-network by soft
updates. Prints the mean reward of the last 20 episodes as it goes and plots every episode's
reward to runs/dqn_cartpole.png. CartPole-v1 counts as solved at a mean reward of 475.
"""

import math
import os
import random
from collections import deque, namedtuple

import gymnasium as gym
import torch
import torch.nn as nn
import torch.optim as optim
from common import Timer, parser, plot, setup
from tqdm import trange

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size):
        return random.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self, num_inputs, num_actions):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(num_inputs, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, num_actions),
        )

    def forward(self, state):
        return self.layers(state)


def optimize(policy, target, memory, optimizer, batch_size, gamma, device):
    batch = Transition(*zip(*memory.sample(batch_size)))
    not_final = torch.tensor([s is not None for s in batch.next_state], device=device)
    next_states = [s for s in batch.next_state if s is not None]
    states = torch.cat(batch.state)
    actions = torch.cat(batch.action)
    rewards = torch.cat(batch.reward)

    q = policy(states).gather(1, actions)
    next_q = torch.zeros(batch_size, device=device)
    if next_states:
        with torch.no_grad():
            next_q[not_final] = target(torch.cat(next_states)).max(1).values
    expected = rewards + gamma * next_q

    loss = nn.functional.smooth_l1_loss(q, expected.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(policy.parameters(), 100)
    optimizer.step()


def main():
    p = parser(__doc__.splitlines()[0], epochs=None, batch_size=128, lr=1e-4)
    p.add_argument("--episodes", type=int, default=300)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--tau", type=float, default=0.005, help="soft target update rate")
    p.add_argument("--eps-decay", type=float, default=1000, help="steps for epsilon to fall "
                   "by a factor e")
    args = p.parse_args()
    device = setup(args)
    timer = Timer()
    episodes = 2 if args.smoke else args.episodes
    batch_size = 16 if args.smoke else args.batch_size
    random.seed(args.seed)

    env = gym.make("CartPole-v1")
    n_actions = env.action_space.n
    n_observations = env.observation_space.shape[0]
    policy = DQN(n_observations, n_actions).to(device)
    target = DQN(n_observations, n_actions).to(device)
    target.load_state_dict(policy.state_dict())
    optimizer = optim.AdamW(policy.parameters(), lr=args.lr, amsgrad=True)
    memory = ReplayMemory(10000)

    steps = 0
    rewards = []
    bar = trange(episodes, desc="episodes")
    for episode in bar:
        observation, _ = env.reset(seed=args.seed + episode)
        state = torch.tensor(observation, dtype=torch.float32, device=device).unsqueeze(0)
        total = 0.0
        done = False
        while not done:
            eps = 0.05 + (0.9 - 0.05) * math.exp(-steps / args.eps_decay)
            steps += 1
            if random.random() > eps:
                with torch.no_grad():
                    action = policy(state).max(1).indices.view(1, 1)
            else:
                action = torch.tensor([[env.action_space.sample()]], device=device)
            observation, reward, terminated, truncated, _ = env.step(action.item())
            total += reward
            done = terminated or truncated
            next_state = None if terminated else torch.tensor(
                observation, dtype=torch.float32, device=device).unsqueeze(0)
            memory.push(state, action, next_state, torch.tensor([reward], device=device))
            state = next_state

            if len(memory) >= batch_size:
                optimize(policy, target, memory, optimizer, batch_size, args.gamma, device)
                with torch.no_grad():  # soft update: target <- tau * policy + (1-tau) * target
                    for t, p_ in zip(target.parameters(), policy.parameters()):
                        t.lerp_(p_, args.tau)
        rewards.append(total)
        recent = sum(rewards[-20:]) / len(rewards[-20:])
        bar.set_postfix(reward=f"{total:.0f}", mean20=f"{recent:.1f}")
        if (episode + 1) % 20 == 0 or episode + 1 == episodes:
            print(f"episode {episode + 1}: mean reward of the last 20 episodes {recent:.1f}  "
                  f"[{timer.minutes:.1f} min]", flush=True)
    env.close()

    window = [sum(rewards[max(0, i - 19):i + 1]) / len(rewards[max(0, i - 19):i + 1])
              for i in range(len(rewards))]
    plot(os.path.join(args.out, "dqn_cartpole.png"),
         {"CartPole-v1 reward": {"episode": rewards, "mean of last 20": window}},
         xlabel="episode")


if __name__ == "__main__":
    main()
