"""A GRU that learns to continue sine waves, one time step at a time.

    python -m ember.compat examples/sequence_gru.py [--steps 400] [--device cuda]

The model is a one-layer GRU (hidden size 100) with a linear read-out; ``forward`` takes one time
step and the hidden state, which ``init_hidden`` starts at zero. Each training batch holds sine
waves of random frequency and phase; the network predicts every next value, reading the true
values for the first half of each wave and its own predictions for the second half, so that it
learns to continue a wave it has seen (mean squared error, Adam). Afterwards it is shown the
first part of new waves and continues them on its own, feeding back its predictions:
runs/sequence_gru.png plots those continuations against the truth, and the training loss.
"""

import math
import os

import torch
import torch.nn as nn
from common import Timer, parser, setup
from tqdm import trange

DT = 0.2  # time between samples


class RNN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super().__init__()
        self.hidden_dim = hidden_dim

        self.rnn = nn.GRU(input_dim, hidden_dim)
        self.linear = nn.Linear(hidden_dim, output_dim)

    def init_hidden(self, batch_size):
        return torch.zeros((1, batch_size, self.hidden_dim))

    def forward(self, input, hidden):
        output, hidden = self.rnn(input.unsqueeze(0), hidden)
        prediction = self.linear(output.squeeze(0))
        return prediction, hidden


def waves(batch, length, device):
    """(length, batch, 1) sine waves with frequencies in [0.5, 1.5) and random phases."""
    freq = torch.rand(1, batch, 1) + 0.5
    phase = torch.rand(1, batch, 1) * 2 * math.pi
    t = torch.arange(length).float().view(length, 1, 1) * DT
    return torch.sin(freq * t + phase).to(device)


def continue_waves(model, seen, steps):
    """Run the model over the ``seen`` part, then feed back its own predictions."""
    hidden = model.init_hidden(seen.size(1)).to(seen.device)
    for x in seen:
        prediction, hidden = model(x, hidden)
    out = []
    for _ in range(steps):
        out.append(prediction)
        prediction, hidden = model(prediction, hidden)
    return torch.stack(out)


def main():
    p = parser(__doc__.splitlines()[0], epochs=None, batch_size=32, lr=5e-3)
    p.add_argument("--steps", type=int, default=400, help="training batches")
    p.add_argument("--length", type=int, default=40, help="time steps per training wave")
    args = p.parse_args()
    device = setup(args)
    timer = Timer()
    steps = 3 if args.smoke else args.steps

    model = RNN(input_dim=1, hidden_dim=100, output_dim=1).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    criterion = nn.MSELoss()
    losses = []
    bar = trange(steps, desc="training")
    for step in bar:
        seq = waves(args.batch_size, args.length + 1, device)
        hidden = model.init_hidden(args.batch_size).to(device)
        predictions = []
        x = seq[0]
        for t in range(1, args.length + 1):
            prediction, hidden = model(x, hidden)
            predictions.append(prediction)
            # the first half reads the true values, the second half its own predictions
            x = seq[t] if t < args.length // 2 else prediction
        loss = criterion(torch.stack(predictions), seq[1:])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.5f}")
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}: loss {losses[-1]:.5f}  [{timer.minutes:.1f} min]",
                  flush=True)

    seen, ahead = 30, 60
    model.eval()
    with torch.no_grad():
        test = waves(3, seen + ahead, device)
        continuation = continue_waves(model, test[:seen], ahead)
    error = (continuation - test[seen:]).pow(2).mean().sqrt().item()
    print(f"final training loss {losses[-1]:.5f}; RMS error of {ahead}-step continuations "
          f"{error:.3f} (the waves' RMS is 0.707)")
    plot_continuations(os.path.join(args.out, "sequence_gru.png"), test.cpu(),
                       continuation.cpu(), seen, losses)


def plot_continuations(path, truth, predicted, seen, losses):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.6),
                                      gridspec_kw={"width_ratios": [2, 1]})
    for i in range(truth.size(1)):
        line, = ax.plot(range(len(truth)), truth[:, i, 0].tolist(), label=f"wave {i + 1}")
        ax.plot(range(seen, len(truth)), predicted[:, i, 0].tolist(), "--",
                color=line.get_color())
    ax.axvline(seen - 0.5, color="grey", lw=0.8)
    ax.set_title(f"truth (solid) and the GRU's continuation (dashed) after {seen} steps")
    ax.set_xlabel("time step")
    ax.legend(loc="lower left", fontsize=8)
    ax_loss.plot(range(1, len(losses) + 1), losses)
    ax_loss.set_yscale("log")
    ax_loss.set_title("training loss (MSE)")
    ax_loss.set_xlabel("training step")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")

if __name__ == "__main__":
    main()
