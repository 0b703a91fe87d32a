"""Named errors raised by pecore.

Every error a user can provoke with bad input is one of these, with a message that names the
offending value and what is allowed.
"""
from __future__ import annotations

__all__ = [
    "PecoreError",
    "ParameterError",
    "UnknownNameError",
    "NyquistError",
    "ImageError",
    "ScaleMismatchError",
    "CropSizeError",
    "WeightsError",
    "ChecksumError",
    "UnsafePickleError",
    "WeightsNotFoundError",
    "DatasetError",
    "OutputError",
    "NonFiniteError",
]


class PecoreError(Exception):
    """Base class of every error pecore raises on purpose."""


class ParameterError(PecoreError, ValueError):
    """A parameter has a value that is not allowed."""


class UnknownNameError(ParameterError):
    """A name (network, layer, CSF, variant, preset, ...) is not one of the known names."""


class NyquistError(ParameterError):
    """A spatial frequency lies above the Nyquist limit ``ppd / 2`` of the display."""


class ImageError(ParameterError):
    """An image tensor has the wrong shape, range, dtype or contains non-finite values."""


class ScaleMismatchError(ImageError):
    """Image sizes or a data folder do not fit the upscaling factor (e.g. HR not ``scale`` × LR)."""


class CropSizeError(ImageError):
    """An HR image is smaller than the training crop."""


class WeightsError(PecoreError):
    """Pretrained weights could not be loaded."""


class ChecksumError(WeightsError):
    """A weights file's sha256 differs from the expected one."""


class UnsafePickleError(WeightsError):
    """A pickle holds something other than numpy arrays and plain containers."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """No source of pretrained weights exists on this machine."""


class DatasetError(PecoreError):
    """A dataset folder or score table is missing or malformed."""


class OutputError(PecoreError, OSError):
    """An output folder cannot be created or written."""


class NonFiniteError(PecoreError, ValueError):
    """Activations or channel scores hold NaN or infinite values (e.g. from broken weights or a bad table)."""
