"""What each model and shape accepts, from the relay's model notes (shared/api/veo-unified.md)."""

from __future__ import annotations

from bot.errors import InputError
from bot.i18n import Text, tr

SIZES = {"landscape": "1280x720", "portrait": "720x1280"}
ASPECTS = {"landscape": "16:9", "portrait": "9:16"}
ORIENTATION_OF_ASPECT = {aspect: orientation for orientation, aspect in ASPECTS.items()}


def max_images(model: str) -> int:
    name = model.lower()
    if "components" in name:
        return 3  # 1 to 3 reference images
    if "veo2" in name and "frames" in name:
        return 2  # first and last frame
    return 1  # text only, or one first frame


def min_images(model: str) -> int:
    return 1 if "components" in model.lower() else 0


def display_name(model: str) -> str:
    """A readable name for a relay model id: veo3.1-fast-components -> Veo 3.1 Fast Components."""
    words = model.replace("_", "-").split("-")
    head = words[0]
    if head.lower().startswith("veo"):
        head = "Veo " + head[3:]
    return " ".join([head, *(w.upper() if w.lower() == "4k" else w.capitalize() for w in words[1:])]).strip()


def takes(model: str, locale: object = None) -> str:
    """What a model takes, in a member's words."""
    most, least = max_images(model), min_images(model)
    if least:
        return tr(locale, "{least} to {most} reference images", least=least, most=most)
    if most == 2:
        return tr(locale, "text, or a first and a last frame")
    return tr(locale, "text, or one first frame")


def describe(model: str, locale: object = None) -> str:
    """`Veo 3.1 Fast: text, or one first frame` (autocomplete names, help)."""
    return f"{display_name(model)}: {takes(model, locale)}"


def size_for(orientation: str) -> str:
    return SIZES[orientation]


def aspect_for(orientation: str) -> str:
    return ASPECTS[orientation]


def resolve_shape(
    orientation: str | None, aspect_ratio: str | None, default_orientation: str
) -> tuple[str, str, str]:
    """(orientation, size, aspect ratio), filled from whichever the member gave.

    A contradiction is refused rather than silently fixed: the member asked for two
    different videos and should pick one.
    """
    if aspect_ratio is not None and aspect_ratio not in ORIENTATION_OF_ASPECT:
        raise InputError(Text("Aspect ratio {aspect} is not offered; use 16:9 or 9:16.", aspect=aspect_ratio))
    if orientation is not None and orientation not in SIZES:
        raise InputError(
            Text(
                "Orientation {orientation} is not offered; use landscape or portrait.",
                orientation=orientation,
            )
        )
    if orientation and aspect_ratio and ASPECTS[orientation] != aspect_ratio:
        raise InputError(
            Text(
                "Orientation {orientation} and aspect ratio {aspect} contradict each other: "
                "{orientation} videos are {own_aspect} ({size}). Leave one of them out.",
                orientation=orientation,
                aspect=aspect_ratio,
                own_aspect=ASPECTS[orientation],
                size=SIZES[orientation],
            )
        )
    chosen = orientation or (ORIENTATION_OF_ASPECT[aspect_ratio] if aspect_ratio else default_orientation)
    return chosen, SIZES[chosen], ASPECTS[chosen]


def check_upsample(enable: bool, orientation: str) -> None:
    if enable and orientation != "landscape":
        raise InputError(Text("Upsample (HD) is only available for landscape videos."))
