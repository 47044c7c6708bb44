"""Touch refs: unguessable, and each made after another sorts after it, so the unique
index on them grows at its end."""

import re
import time

from dunning.models import touch_ref, touch_refs


def test_refs_are_32_hex_digits_and_never_repeat():
    refs = touch_refs(10_000) + [touch_ref() for _ in range(100)]

    assert all(re.fullmatch(r"[0-9a-f]{32}", ref) for ref in refs)
    assert len(set(refs)) == len(refs)
    # 80 random bits after the time: refs made in one go share only the time.
    assert len({ref[12:] for ref in refs}) == len(refs)


def test_a_ref_made_later_sorts_after_every_earlier_one():
    earlier = touch_refs(1000)
    time.sleep(0.002)
    later = [touch_ref(), *touch_refs(1000)]

    assert min(later) > max(earlier)
