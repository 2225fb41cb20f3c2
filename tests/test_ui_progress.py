"""The app's indexing progress, driven by AppTest: an upload's bar moves as the passages of one file are embedded."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.progress import BarProgress

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"


def test_an_upload_shows_a_progress_bar_that_moves_as_its_passages_are_embedded(tmp_path, monkeypatch, app_environment):
    shown: list[tuple[float, str]] = []
    show = BarProgress._show

    def record(progress: BarProgress) -> None:
        shown.append((progress.fraction, progress.text()))
        show(progress)

    monkeypatch.setattr(BarProgress, "_show", record)
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    minutes = "\n\n".join(f"Item {n}: the rowing club agreed on boat {n} for the spring regatta." for n in range(500))
    app.file_uploader[0].set_value([("minutes.txt", minutes.encode(), "text/plain")])
    app.button(key="FormSubmitter:upload-Index uploaded files").click().run()
    assert not app.exception, app.exception
    assert any("minutes.txt: added" in message.value.replace("\\", "") for message in app.success)
    fractions = [fraction for fraction, _ in shown]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len([f for f in fractions if 0 < f < 1]) > 1, "the bar moved while the one file's passages were embedded"
    assert shown[0][1] == "Indexing uploads: 0 of 1 file done, 0 passages embedded"
    assert shown[-1][1].startswith("Indexing uploads: 1 of 1 file done, ")
