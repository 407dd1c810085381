import importlib


def __getattr__(name):
    # ``utils.data`` needs all of ember, but ``utils`` itself is imported early (autograd uses
    # ``utils.hooks``), so ``data`` is imported on first access.
    if name == "data":
        return importlib.import_module(f"{__name__}.data")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
