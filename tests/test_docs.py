"""The task gallery of the docs site: every family, one example per difficulty, one PNG per audio family."""

from audiogym.plots import DIFFICULTIES, write_gallery
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES


def test_the_gallery_shows_every_family_with_one_png_per_audio_family(tmp_path):
    page = write_gallery(tmp_path, seed=0)
    text = page.read_text()
    pngs = sorted(p.stem for p in tmp_path.glob("*.png"))
    assert pngs == sorted(AUDIO_FAMILIES)
    for name in pngs:
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert f"]({name}.png)" in text
    for name, family in FAMILIES.items():
        section = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"| | {' | '.join(DIFFICULTIES)} |" in section
        for row in ("question", "choices", "transcript", "answer", "facts", "measured"):
            assert f"| {row} |" in section, (name, row)
        assert family.description in section
    # the page is the same for the same seed (the docs build regenerates it)
    assert write_gallery(tmp_path / "again", seed=0).read_text() == text
