"""Table-style cases for the pure encodings and validation rules."""

from __future__ import annotations

import json

import pytest

from versioned_action import layout
from versioned_action.errors import InvalidInput


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "LATEST"),
        ("LATEST", "LATEST"),
        ("latest", "LATEST"),
        (1, "1"),
        ("7", "7"),
        ("000042", "42"),
        (999999, "999999"),
    ],
)
def test_normalize_version(given, expected):
    assert layout.normalize_version(given) == expected


@pytest.mark.parametrize("given", [0, "0", -1, 1_000_000, "1.5", "v3", "", True, 2.0, "٣"])
def test_normalize_version_rejects(given):
    with pytest.raises(InvalidInput) as info:
        layout.normalize_version(given)
    assert info.value.field == "version"


@pytest.mark.parametrize(
    ("version", "filename"),
    [
        ("LATEST", "000000_LATEST"),
        ("1", "999999_000001"),
        ("2", "999998_000002"),
        ("999999", "000001_999999"),
    ],
)
def test_s3only_filename_round_trip(version, filename):
    assert layout.s3only_filename(version) == filename
    assert layout.s3only_version_from_filename(filename + ".bin", ".bin") == version


@pytest.mark.parametrize(
    "filename", ["000000_LATESTX", "999999_000002", "abc", "999999_000001.zip", "notes.txt"]
)
def test_foreign_filenames_are_ignored(filename):
    assert layout.s3only_version_from_filename(filename, ".bin") is None


@pytest.mark.parametrize(
    ("version", "sk"), [("LATEST", "LATEST"), ("1", "000001"), ("123", "000123")]
)
def test_dynamodb_sort_keys(version, sk):
    assert layout.version_sk(version) == sk
    assert layout.version_from_sk(sk) == version


def test_alias_keys_match_the_peer():
    assert layout.alias_pk("my-app") == "__my-app-alias"
    assert layout.history_pk("my-app") != layout.alias_pk("my-app")


@pytest.mark.parametrize("name", ["my-app", "model.v2", "db_1", "A"])
def test_valid_names(name):
    assert layout.validate_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "a/b", "..", "a..b", "-x", ".hidden", "sp ace", "x" * 129, "é"]
)
def test_invalid_names(name):
    with pytest.raises(InvalidInput, match="name"):
        layout.validate_name(name)


@pytest.mark.parametrize("alias", ["prod", "staging_eu", "v2"])
def test_valid_aliases(alias):
    assert layout.validate_alias(alias) == alias


@pytest.mark.parametrize("alias", ["", "LATEST", "blue-green", "1prod", "_x", "a.b", "x" * 65])
def test_invalid_aliases(alias):
    with pytest.raises(InvalidInput, match="alias"):
        layout.validate_alias(alias)


@pytest.mark.parametrize(
    ("version", "secondary", "weight", "expected"),
    [("1", None, None, None), ("1", "2", 0, 0), ("1", "2", 99, 99)],
)
def test_weights(version, secondary, weight, expected):
    assert layout.validate_weight(version, secondary, weight) == expected


@pytest.mark.parametrize(
    ("version", "secondary", "weight", "field"),
    [
        ("1", None, 10, "secondary-weight"),
        ("1", "1", 10, "secondary-version"),
        ("1", "2", None, "secondary-weight"),
        ("1", "2", 100, "secondary-weight"),
        ("1", "2", -1, "secondary-weight"),
        ("1", "2", "10", "secondary-weight"),
        ("1", "2", True, "secondary-weight"),
    ],
)
def test_bad_weights(version, secondary, weight, field):
    with pytest.raises(InvalidInput) as info:
        layout.validate_weight(version, secondary, weight)
    assert info.value.field == field


def test_metadata_adds_the_name_and_lowercases():
    assert layout.validate_metadata("app", {"Build": "7"}) == {"build": "7", "artifact_name": "app"}


@pytest.mark.parametrize(
    "metadata",
    [
        {"artifact_sha256": "x"},
        {"bad key": "v"},
        {"k": "caf\u00e9"},
        {"k": "line\nbreak"},
        {"k": "v" * 2000, "k2": "v"},
        {"A": "1", "a": "2"},
    ],
)
def test_bad_metadata(metadata):
    with pytest.raises(InvalidInput, match="metadata"):
        layout.validate_metadata("app", metadata)


@pytest.mark.parametrize(
    "tags", [{f"k{i}": "v" for i in range(11)}, {"aws:x": "1"}, {"k": "a&b"}, {"": "v"}]
)
def test_bad_tags(tags):
    with pytest.raises(InvalidInput, match="tags"):
        layout.validate_tags(tags)


@pytest.mark.parametrize("value", ["application/zip", "text/plain; charset=utf-8", None, ""])
def test_content_types(value):
    layout.validate_content_type(value)


@pytest.mark.parametrize("value", ["zip", "a/b/c", "text/plain\n"])
def test_bad_content_types(value):
    with pytest.raises(InvalidInput, match="invalid content_type"):
        layout.validate_content_type(value)


def test_alias_document_has_exactly_the_peer_keys():
    raw = layout.encode_alias_document("app", "prod", "2", "3", 10, "s3://b/k2", "s3://b/k3")
    assert set(json.loads(raw)) == {
        "name",
        "alias",
        "update_at",
        "version",
        "secondary_version",
        "secondary_version_weight",
        "version_s3uri",
        "secondary_version_s3uri",
    }
    assert layout.decode_alias_document(raw) == {
        "version": "2",
        "secondary_version": "3",
        "secondary_version_weight": 10,
    }


@pytest.mark.parametrize(("prefix", "expected"), [("a/b/", "a/b"), ("/x", "x"), ("", "")])
def test_prefix(prefix, expected):
    assert layout.validate_prefix(prefix) == expected


@pytest.mark.parametrize("prefix", ["a/../b", "a//b", "a b"])
def test_bad_prefix(prefix):
    with pytest.raises(InvalidInput, match="prefix"):
        layout.validate_prefix(prefix)
