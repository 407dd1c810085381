"""A character-level language model on Tiny Shakespeare that writes pseudo-Shakespeare.

    python -m ember.compat examples/char_lm.py path/to/tinyshakespeare/input.txt
    python -m ember.compat examples/char_lm.py input.txt --model transformer --minutes 5

The text (Karpathy's 1.1 MB Tiny Shakespeare, ``input.txt``; ../shared/data/tinyshakespeare has
it in this project's workspace) is split 90/10 into training and validation characters. The
model reads 64 characters and predicts each next one: a 2-layer LSTM (the default) or a small
causal Transformer encoder (``--model transformer``). It trains with AdamW on random windows for
``--minutes`` of wall time (a few minutes on a CPU give recognisable words and speaker names),
prints the training and validation loss as it goes, plots them to runs/char_lm.png, and
finally samples ``--sample-chars`` characters starting from ``--prompt``.
"""

import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from common import Timer, parser, plot, setup
from tqdm import tqdm


class LSTMModel(nn.Module):
    def __init__(self, vocab, embed=64, hidden=256, layers=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


class TransformerModel(nn.Module):
    def __init__(self, vocab, context, d_model=128, heads=4, layers=3, dropout=0.1):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx, state=None):
        n = idx.size(1)
        positions = torch.arange(n, device=idx.device)
        x = self.embed(idx) + self.position(positions)
        mask = nn.Transformer.generate_square_subsequent_mask(n, device=idx.device)
        return self.head(self.norm(self.encoder(x, mask=mask, is_causal=True))), None


def batches(data, batch_size, context, device):
    starts = torch.randint(len(data) - context - 1, (batch_size,))
    x = torch.stack([data[s:s + context] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + context + 1] for s in starts.tolist()])
    return x.to(device), y.to(device)


@torch.no_grad()
def sample(model, prompt, length, temperature, device, context):
    model.eval()
    idx = prompt.to(device).unsqueeze(0)
    out = []
    if isinstance(model, LSTMModel):
        logits, state = model(idx)
        for _ in range(length):
            probs = F.softmax(logits[:, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1)
            out.append(nxt.item())
            logits, state = model(nxt, state)
    else:
        for _ in range(length):
            logits, _ = model(idx[:, -context:])
            probs = F.softmax(logits[:, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1)
            out.append(nxt.item())
            idx = torch.cat([idx, nxt], dim=1)
    model.train()
    return out


def main():
    p = parser(__doc__.splitlines()[0], epochs=None, batch_size=32, lr=3e-3)
    p.add_argument("text", nargs="?", default=os.path.join("data", "tinyshakespeare",
                                                           "input.txt"),
                   help="a plain-text file (Tiny Shakespeare's input.txt)")
    p.add_argument("--model", choices=["lstm", "transformer"], default="lstm")
    p.add_argument("--minutes", type=float, default=3.0, help="training wall time")
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--prompt", default="ROMEO:\n")
    p.add_argument("--sample-chars", type=int, default=400)
    p.add_argument("--temperature", type=float, default=0.8)
    args = p.parse_args()
    device = setup(args)
    timer = Timer()
    if not os.path.isfile(args.text):
        p.error(f"{args.text} not found: pass the path of Tiny Shakespeare's input.txt")
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    print(f"{len(text):,} characters, vocabulary of {len(chars)}")

    if args.model == "lstm":
        model = LSTMModel(len(chars)).to(device)
    else:
        model = TransformerModel(len(chars), args.context).to(device)
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    max_steps = 4 if args.smoke else None
    eval_every = 2 if args.smoke else args.eval_every
    history = {"train": [], "validation": []}
    running, step = 0.0, 0
    bar = tqdm(desc="training", unit="step")
    while (max_steps is None and timer.minutes < args.minutes) or \
            (max_steps is not None and step < max_steps):
        x, y = batches(train_data, args.batch_size, args.context, device)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running += loss.item()
        step += 1
        bar.update()
        if step % eval_every == 0:
            model.eval()
            with torch.no_grad():
                vx, vy = batches(val_data, 64, args.context, device)
                vlogits, _ = model(vx)
                vloss = F.cross_entropy(vlogits.reshape(-1, len(chars)), vy.reshape(-1))
            model.train()
            history["train"].append(running / eval_every)
            history["validation"].append(vloss.item())
            running = 0.0
            bar.set_postfix(train=f"{history['train'][-1]:.3f}",
                            val=f"{history['validation'][-1]:.3f}")
            print(f"step {step}: train loss {history['train'][-1]:.3f}, validation loss "
                  f"{history['validation'][-1]:.3f} ({math.exp(history['validation'][-1]):.1f}"
                  f" perplexity)  [{timer.minutes:.1f} min]", flush=True)
    bar.close()

    plot(os.path.join(args.out, "char_lm.png"), {"cross-entropy": history},
         xlabel=f"x{eval_every} steps")
    prompt = torch.tensor([index[c] for c in args.prompt if c in index], dtype=torch.long)
    out = sample(model, prompt, 40 if args.smoke else args.sample_chars, args.temperature,
                 device, args.context)
    print(f"--- {step} steps in {timer.minutes:.1f} min; a sample ---")
    print(args.prompt + "".join(chars[i] for i in out))


if __name__ == "__main__":
    main()
