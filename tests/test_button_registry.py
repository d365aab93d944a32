"""The button table (`cogs/video/buttons.py`): everything derived from it agrees with it."""

from __future__ import annotations

import pytest

from cogs.video.buttons import ACTIONS, Action, Who, custom_id, lineage
from cogs.video.views import ActionButton, Buttons


def test_every_action_has_a_custom_id_the_persistent_item_reads_back():
    for name in ACTIONS:
        match = ActionButton.__discord_ui_compiled_template__.fullmatch(custom_id(name, 42))
        assert match is not None and (match["action"], int(match["job"])) == (name, 42)
    assert ActionButton.__discord_ui_compiled_template__.fullmatch("video:nonsense:42") is None


def test_the_payload_and_the_view_come_from_the_same_entry():
    buttons = Buttons(7, list(ACTIONS), "en-US")
    payload = [c for row in buttons.to_components() for c in row["components"]]
    view = [item.to_component_dict() for item in buttons.view().children]
    assert payload == view
    assert [c["custom_id"] for c in payload] == [custom_id(name, 7) for name in ACTIONS]


def test_lineage_labels_come_from_the_actions_that_build_jobs():
    assert lineage("reroll") == "Reroll of {job}" and lineage("remix") == "Remix of {job}"
    assert lineage("new") is None and lineage("delete") is None


def test_a_button_only_its_asker_may_press_must_say_so():
    with pytest.raises(ValueError, match="refusal"):
        Action("x", "X", "❓", "secondary", Who.ASKER, lambda h, i, job: h.cancel(i, job))
