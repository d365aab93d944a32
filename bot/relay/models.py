"""What each model and shape accepts: the relay family's known models and what each takes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InputError
from bot.texts.i18n import Text, tr

SIZES = {"landscape": "1280x720", "portrait": "720x1280"}
ASPECTS = {"landscape": "16:9", "portrait": "9:16"}


@dataclass(frozen=True)
class Capability:
    """What a model takes: how many images (reference images or frames)."""

    min_images: int = 0
    max_images: int = 1

    def takes_images(self, count: int) -> bool:
        return self.min_images <= count <= self.max_images


TEXT_OR_FRAME = Capability(0, 1)
FIRST_AND_LAST_FRAME = Capability(0, 2)
COMPONENTS = Capability(1, 3)

# Every model the relays of this family are known to offer, with what
# it takes. A model that is not here is declared by the owner in MODEL_IMAGES (bot/settings.py).
KNOWN: dict[str, Capability] = {
    **{
        m: TEXT_OR_FRAME
        for m in (
            "veo3.1",
            "veo3.1-fast",
            "veo3.1-pro",
            "veo2",
            "veo2-fast",
            "veo3",
            "veo3-fast",
            "veo3-pro",
            "veo3-frames",
            "veo3-fast-frames",
            "veo3-pro-frames",
        )
    },
    **{f"{m}-4k": TEXT_OR_FRAME for m in ("veo3.1", "veo3.1-fast", "veo3.1-pro")},
    "veo2-fast-frames": FIRST_AND_LAST_FRAME,
    **{m: COMPONENTS for m in ("veo3.1-components", "veo3.1-fast-components", "veo2-fast-components")},
}


def display_name(model: str) -> str:
    """A readable name for a relay model id: veo3.1-fast-components -> Veo 3.1 Fast Components."""
    words = model.replace("_", "-").split("-")
    head = words[0]
    if head.lower().startswith("veo"):
        head = "Veo " + head[3:]
    return " ".join([head, *(w.upper() if w.lower() == "4k" else w.capitalize() for w in words[1:])]).strip()


def takes(capability: Capability, locale: object = None) -> str:
    """What a model takes, in a member's words."""
    most, least = capability.max_images, capability.min_images
    if least:
        return tr(locale, "{least} to {most} reference images", least=least, most=most)
    if most == 2:
        return tr(locale, "text, or a first and a last frame")
    return tr(locale, "text, or one first frame")


def describe(model: str, capability: Capability, locale: object = None) -> str:
    """`Veo 3.1 Fast: text, or one first frame` (autocomplete names, help)."""
    return f"{display_name(model)}: {takes(capability, locale)}"


def size_for(shape: str) -> str:
    return SIZES[shape]


def aspect_for(shape: str) -> str:
    return ASPECTS[shape]


def resolve_shape(shape: str | None, default_shape: str) -> tuple[str, str, str]:
    """(shape, size, aspect ratio) for the shape a member chose, or the owner's default."""
    if shape is not None and shape not in SIZES:
        raise InputError(
            Text(
                "Orientation {orientation} is not offered; use landscape or portrait.",
                orientation=shape,
            )
        )
    chosen = shape or default_shape
    return chosen, SIZES[chosen], ASPECTS[chosen]


def check_upsample(enable: bool, shape: str) -> None:
    if enable and shape != "landscape":
        raise InputError(Text("Upsample (HD) is only available for landscape videos."))
