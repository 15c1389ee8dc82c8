"""The one error family of snnc.

Every error a user can cause is an ``SnncError`` that knows where it came from: the file, and a
``where`` inside it (a YAML path such as ``populations.hid.neuron.tau_mem``, a projection name, a
core id). The CLI prints ``str(error)``, i.e. ``FILE: WHERE: WHAT`` on one line, and exits with the
error's ``exit_code`` (2 for bad input, 1 for a check that failed such as "does not fit").
"""

from __future__ import annotations


class SnncError(Exception):
    """Base of every error snnc raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, where: str = "", file: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.file = file

    def located(self, *, file: str | None = None, prefix: str | None = None) -> "SnncError":
        """Attach the file (if not set) and prefix the YAML path; returns self for re-raising."""
        if file and not self.file:
            self.file = file
        if prefix:
            self.where = f"{prefix}.{self.where}" if self.where else prefix
        return self

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.where) if p]
        return one_line(": ".join([*parts, self.message]))


def one_line(text: str) -> str:
    """``text`` with newlines and other control characters escaped (``\\n``), so that an error
    stays one line whatever a file name, a population name or a library's message holds."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class NetworkError(SnncError):
    """The network description is invalid (bad YAML, bad field, unknown population...)."""


class QuantizationError(SnncError):
    """A network cannot be expressed in a target's fixed-point formats."""


class RoutingError(SnncError):
    """Routes or routing tables cannot be built within the hardware's limits."""

    exit_code = 1


class UnsupportedOnTarget(SnncError):
    """The network uses something the chosen target cannot express (e.g. a delay above 64 on Loihi)."""


class VerificationError(SnncError):
    """A backend's spikes differ from the reference's."""

    exit_code = 1
