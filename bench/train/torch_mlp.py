"""The PyTorch anchor of bench/train: the same 202->128->64->1 MLP, batch 256, Adam, on the same
number of synthetic samples, in Debian's python3-torch. Prints one JSON line with samples/s and
the BLAS library torch actually loaded (read from /proc/self/maps)."""
import json
import sys
import time

import torch


def loaded_blas():
    libs = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1]
            if 'blas' in path or 'lapack' in path or 'mkl' in path:
                libs.add(path)
    return sorted(libs)


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.randn(samples, 202)
    y = torch.randn(samples, 1)
    model = torch.nn.Sequential(torch.nn.Linear(202, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()

    def epoch():
        perm = torch.randperm(samples)
        for i in range(0, samples, 256):
            idx = perm[i:i + 256]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch()  # warm-up
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    dt = time.perf_counter() - t0
    print(json.dumps({
        'samples_per_s': samples * epochs / dt,
        'seconds': dt,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': loaded_blas(),
    }))


if __name__ == '__main__':
    main()
