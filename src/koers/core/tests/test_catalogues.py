"""Every user-facing string is in the Dutch and English catalogues, translated."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import koers

SOURCE = Path(koers.__file__).parent
LANGUAGES = ["nl", "en"]


def entries(po: polib.POFile) -> set[tuple[str, str]]:
    return {(entry.msgid, entry.msgid_plural) for entry in po if not entry.obsolete}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, polib.POFile]:
    """The catalogues makemessages makes from the current source, outside the checkout."""
    copy = tmp_path_factory.mktemp("source") / "koers"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--no-obsolete", "--ignore", "static/*"]
        + [f"--locale={language}" for language in LANGUAGES],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    return {
        language: polib.pofile(copy / "locale" / language / "LC_MESSAGES" / "django.po")
        for language in LANGUAGES
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_exactly_the_strings_of_the_source(extracted, language):
    committed = polib.pofile(SOURCE / "locale" / language / "LC_MESSAGES" / "django.po")
    missing = entries(extracted[language]) - entries(committed)
    stale = entries(committed) - entries(extracted[language])
    assert not missing, f"run `make messages` and translate: {sorted(missing)[:10]}"
    assert not stale, f"run `make messages` to drop: {sorted(stale)[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language):
    committed = polib.pofile(SOURCE / "locale" / language / "LC_MESSAGES" / "django.po")
    untranslated = [entry.msgid for entry in committed.untranslated_entries()]
    fuzzy = [entry.msgid for entry in committed.fuzzy_entries()]
    assert not untranslated
    assert not fuzzy


def test_dutch_translations_differ_from_the_english_source_where_words_differ():
    # Guards against a catalogue filled by copying: most Dutch strings are not English.
    committed = polib.pofile(SOURCE / "locale" / "nl" / "LC_MESSAGES" / "django.po")
    same = [entry for entry in committed if entry.msgstr == entry.msgid]
    assert len(same) < len(committed) * 0.15
