"""Settings: one declared table, documented, with clear errors naming the bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.settings import SETTINGS, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    undocumented = [s.name for s in SETTINGS if f"`{s.name}`" not in text]
    assert undocumented == []
    assert all(s.help for s in SETTINGS)


def test_defaults_put_everything_under_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(overrides={"DATA_DIR": str(tmp_path)}, environ={}, config_file=None)
    assert settings.database_url == f"sqlite:///{tmp_path / 'khlang.db'}"
    assert settings.index_dir == tmp_path / "index"
    assert settings.storage_url == str(tmp_path / "files")
    assert settings.DEFAULT_LANGUAGE == "th"


def test_environment_and_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "khlang.toml"
    config.write_text(
        'site_title_en = "Ban Suan Open Data"\nmax_upload_mb = 50\n', encoding="utf-8"
    )
    env = {"KHLANG_DEFAULT_LANGUAGE": "en", "STORAGE_URL": "s3://bucket/prefix"}
    settings = load_settings(environ=env, config_file=config)
    assert settings.SITE_TITLE_EN == "Ban Suan Open Data"
    assert settings.MAX_UPLOAD_MB == 50
    assert settings.DEFAULT_LANGUAGE == "en"
    assert settings.storage_url == "s3://bucket/prefix"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KHLANG_DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"KHLANG_MAX_UPLOAD_MB": "lots"}, "MAX_UPLOAD_MB"),
        ({"KHLANG_MAX_UPLOAD_MB": "-1"}, "MAX_UPLOAD_MB"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"KHLANG_SEARCH_BACKEND": "solr"}, "SEARCH_BACKEND"),
        ({"KHLANG_DEBUG": "maybe"}, "DEBUG"),
    ],
)
def test_bad_values_fail_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ=env, config_file=None)


def test_unknown_setting_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "khlang.toml"
    config.write_text('databse_url = "sqlite:///x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="databse_url"):
        load_settings(environ={}, config_file=config)
