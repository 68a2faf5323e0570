"""Real FIDO keys on USB HID, found with python-fido2, and why none may show up.

``CtapHidDevice.list_devices()`` keeps only /dev/hidraw* nodes whose report descriptor has the
FIDO usage page, and it swallows permission errors: a key the user may not open is simply absent.
`diagnose()` turns that silence into a sentence.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from fido2.hid import CtapHidDevice

VENDORS = {0x1050: "Yubico", 0x20A0: "Nitrokey", 0x096E: "Feitian", 0x18D1: "Google",
           0x1EA8: "Thetis", 0x32A3: "Token2", 0x311F: "Solo"}
UDEV_HINT = ('KERNEL=="hidraw*", SUBSYSTEM=="hidraw", MODE="0664", GROUP="plugdev", '
             'ATTRS{idVendor}=="1050"')


@dataclass(frozen=True)
class KeyDescription:
    """What a person needs to recognise a plugged-in key."""

    product: str
    vid: int
    pid: int
    path: str
    serial: str | None = None

    @property
    def vendor(self) -> str:
        return VENDORS.get(self.vid, "unknown vendor")

    def __str__(self) -> str:
        serial = f", serial {self.serial}" if self.serial else ""
        return f"{self.product} ({self.vendor} {self.vid:04x}:{self.pid:04x}) at {self.path}{serial}"


def describe(device: CtapHidDevice) -> KeyDescription:
    """The description of an opened key."""
    descriptor = device.descriptor
    path = descriptor.path.decode() if isinstance(descriptor.path, bytes) else str(descriptor.path)
    return KeyDescription(product=descriptor.product_name or "FIDO key", vid=descriptor.vid,
                          pid=descriptor.pid, path=path, serial=descriptor.serial_number)


def find_keys() -> list[CtapHidDevice]:
    """Every FIDO HID key this process may open ([] when none is plugged in or readable)."""
    return list(CtapHidDevice.list_devices())


def list_keys() -> list[KeyDescription]:
    """Descriptions of `find_keys()`; the devices are closed again."""
    found = []
    for device in find_keys():
        found.append(describe(device))
        device.close()
    return found


def diagnose() -> str:
    """Why `find_keys()` came back empty, as one sentence."""
    nodes = sorted(glob.glob("/dev/hidraw*"))
    if not nodes:
        return ("no FIDO key found: there is no /dev/hidraw* device at all (nothing plugged in, or "
                "a container started without --device /dev/hidrawN)")
    unreadable = [node for node in nodes if not os.access(node, os.R_OK | os.W_OK)]
    if unreadable:
        return (f"no FIDO key found: no read/write permission on {', '.join(unreadable)} (python-fido2 "
                f"skips those silently); add a udev rule such as {UDEV_HINT}, or run as root")
    return f"no FIDO key found among {', '.join(nodes)} (none has the FIDO usage page 0xF1D0)"


class NoKeyError(RuntimeError):
    """No real key is available (the message says why)."""


def first_key() -> CtapHidDevice:
    """The first real key, or NoKeyError with `diagnose()` as the message."""
    keys = find_keys()
    if not keys:
        raise NoKeyError(diagnose())
    for extra in keys[1:]:
        extra.close()
    return keys[0]
