"""What --calibration-list accepts: an official list by name or by bytes, a subset of one (marked), the
sample data's own list (marked); and what it refuses: any other image of a real dataset, a second list."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import UsageError
from tools.calibration.lists import read_names, resolve_list


@pytest.fixture
def official(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "one.txt").write_text("a.JPEG\nb.JPEG\nc.JPEG\n")
    (tmp_path / "two.txt").write_text("d.JPEG 0\ne.JPEG 1\n")
    return {"option_1": tmp_path / "one.txt", "option_2": tmp_path / "two.txt"}


def write(folder: Path, text: str) -> str:
    path = folder / "mine.txt"
    path.write_text(text)
    return str(path)


def test_an_official_list_by_name_and_by_default(official) -> None:
    assert resolve_list(None, official, synthetic=False).name == "option_1"
    chosen = resolve_list("option_2", official, synthetic=False)
    assert (chosen.name, chosen.names, chosen.official, chosen.note) == ("option_2", ("d.JPEG", "e.JPEG"), True, "")


def test_a_copy_of_an_official_list_is_that_list(official, tmp_path: Path) -> None:
    chosen = resolve_list(write(tmp_path, official["option_1"].read_text()), official, synthetic=False)
    assert (chosen.name, chosen.official) == ("option_1", True)


def test_a_subset_of_one_list_is_marked_not_valid_for_submission(official, tmp_path: Path) -> None:
    chosen = resolve_list(write(tmp_path, "c.JPEG\na.JPEG\n"), official, synthetic=False)
    assert (chosen.name, chosen.names, chosen.official) == ("mine.txt", ("c.JPEG", "a.JPEG"), False)
    assert chosen.note == "2 of the 3 images of option_1, not the official list itself: not valid for submission"


def test_an_image_outside_the_lists_is_refused_by_name(official, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"mine.txt: z.JPEG is not in the official calibration list option_1; "
                                         r"the rules .* calibrating on validation images is against them"):
        resolve_list(write(tmp_path, "a.JPEG\nz.JPEG\n"), official, synthetic=False)
    with pytest.raises(UsageError, match=r"d.JPEG is not in the official calibration list option_1 \(nor are 1 more"):
        resolve_list(write(tmp_path, "a.JPEG\nb.JPEG\nd.JPEG\ne.JPEG\n"), official, synthetic=False)  # both lists


def test_the_sample_data_may_use_its_own_list_marked_not_valid(official, tmp_path: Path) -> None:
    chosen = resolve_list(write(tmp_path, "synthetic_cal_1.JPEG\n"), official, synthetic=True)
    assert (chosen.official, chosen.names) == (False, ("synthetic_cal_1.JPEG",))
    assert "synthetic sample data: not valid for submission" in chosen.note


@pytest.mark.parametrize(("text", "needle"), [
    ("", "names no images"),
    ("../escape.JPEG\n", r"\.\./escape.JPEG is no image name in the dataset folder"),
    ("/etc/passwd\n", "/etc/passwd is no image name"),
])
def test_bad_list_files(official, tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        resolve_list(write(tmp_path, text), official, synthetic=True)


def test_neither_a_name_nor_a_file(official) -> None:
    with pytest.raises(UsageError, match=r"--calibration-list option_3: neither an official list \(option_1, "
                                         r"option_2\) nor a file"):
        resolve_list("option_3", official, synthetic=False)


def test_read_names_takes_the_first_field(tmp_path: Path) -> None:
    assert read_names(Path(write(tmp_path, "x.JPEG 0\n\n  y.JPEG 1\n"))) == ("x.JPEG", "y.JPEG")
