"""Layer names of the VGG-16 ``features`` stack (conv1_1, relu1_1, …, pool5) → child index, for any pooling width."""
from __future__ import annotations

__all__ = ["vgg16_names"]


def vgg16_names(pool_modules: int = 1, *, last_pool: bool = True) -> dict[str, int]:
    """Every named layer of a VGG-16 ``features`` stack whose pooling step spans ``pool_modules`` children.

    torchvision's VGG-16 pools with one module (``MaxPool2d``); ST-LPIPS's with two (a stride-1 max-pool, then
    a blur-and-subsample), and ``pool<k>`` names the last of them.

    Examples
    --------
    >>> vgg16_names()["relu2_2"], vgg16_names()["pool5"]
    (8, 30)
    >>> vgg16_names(2, last_pool=False)["relu5_3"]
    33
    """
    names: dict[str, int] = {}
    idx = 0
    for block, n_conv in enumerate((2, 2, 3, 3, 3), start=1):
        for j in range(1, n_conv + 1):
            names[f"conv{block}_{j}"] = idx
            names[f"relu{block}_{j}"] = idx + 1
            idx += 2
        if block < 5 or last_pool:
            names[f"pool{block}"] = idx + pool_modules - 1
            idx += pool_modules
    return names
