"""Imports through the API: upload, check, start, follow, rejected rows; scopes and owners."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from koers.api.tests.client import bearer
from koers.crm.models import Contact
from koers.dataio.models import ImportJob

CSV = (
    b"First Name,Last Name,Email\n"
    b"Anna,Smit,anna@smitbouw.nl\n"
    b"Bram,Mulder,bram@\n"
    b"Carla,Bos,carla@bosadvies.nl\n"
)


def upload(client, content=CSV, name="contacts.csv", **fields):
    return client.post(
        "/api/v1/imports",
        {"target": "contacts", "file": SimpleUploadedFile(name, content), **fields},
    )


def test_a_program_uploads_checks_starts_and_reads_the_rejected_rows(
    sales_a, django_capture_on_commit_callbacks
):
    client = bearer(sales_a)

    with django_capture_on_commit_callbacks(execute=True):
        made = upload(client)
    job = made.json()

    assert made.status_code == 201
    assert job["mapping"] == ["first_name", "last_name", "email"]
    assert job["match_on"] == "email"
    checked = client.get(f"/api/v1/imports/{job['id']}").json()
    assert checked["status"] == "checked"
    assert (checked["preview"]["create"], checked["preview"]["reject"]) == (2, 1)
    assert checked["preview"]["errors"][0][0] == 3

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/imports/{job['id']}/start")
    assert started.status_code == 202
    done = client.get(f"/api/v1/imports/{job['id']}").json()
    assert (done["status"], done["created_count"], done["rejected_count"]) == ("done", 2, 1)
    assert done["progress"] == 100
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "anna@smitbouw.nl",
        "carla@bosadvies.nl",
    }
    rejected = client.get(f"/api/v1/imports/{job['id']}/rejections").json()["results"]
    assert [(row["row_number"], row["values"][:2]) for row in rejected] == [(3, ["Bram", "Mulder"])]
    assert rejected[0]["reason"].startswith("Email: ")


def test_a_file_that_is_no_table_gets_a_422_naming_the_file(sales_a):
    response = upload(bearer(sales_a), b"%PDF-1.7\x00\x01", "offerte.pdf")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("get", "/api/v1/imports", "read"),
        ("get", "/api/v1/imports/{id}", "read"),
        ("post", "/api/v1/imports/{id}/start", "write"),
        ("get", "/api/v1/imports/{id}/rejections", "read"),
        ("post", "/api/v1/imports", "write"),
    ],
)
def test_imports_need_their_scope_and_are_their_owners_own(sales_a, sales_b, method, path, access):
    upload(bearer(sales_a))
    job = ImportJob.objects.get()
    url = path.format(id=job.pk)
    other_access = "write" if access == "read" else "read"
    without = bearer(sales_a, ["contacts:read", f"imports:{other_access}"])

    creating = method == "post" and url == "/api/v1/imports"
    refused = upload(without) if creating else getattr(without, method)(url)

    assert refused.status_code == 403
    assert refused.json()["code"] == "missing_scope"
    if "{id}" in path:
        theirs = getattr(bearer(sales_b), method)(url)
        assert theirs.status_code == 404
    else:
        listed = bearer(sales_b).get("/api/v1/imports").json()["results"]
        assert job.pk not in [row["id"] for row in listed]
    assert ImportJob.objects.count() == 1


def test_an_import_needs_the_write_scope_of_what_it_imports(sales_a):
    only_imports = bearer(sales_a, ["imports:read", "imports:write"])

    response = upload(only_imports)

    assert response.status_code == 403
    assert "contacts:write" in response.json()["message"]
    assert not ImportJob.objects.exists()


def test_an_upload_whose_match_field_has_no_column_keeps_nothing(sales_a):
    response = upload(bearer(sales_a), match_on="kvk_number")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    assert not ImportJob.objects.exists()
