"""The import wizard over HTTP: who may do what, bad files, the progress a page shows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from koers.dataio.models import ImportJob

CSV = b"Voornaam;Achternaam;E-mailadres\nJan;Jansen;jan@x.nl\nEva;;eva@\n"


def _upload(client, content=CSV, name="lijst.csv", target="contacts"):
    return client.post(
        reverse("dataio:import-list"),
        {"target": target, "file": SimpleUploadedFile(name, content, "text/csv")},
    )


def test_upload_suggests_a_mapping_and_a_check_counts_the_rows(
    client_for, sales_a, django_capture_on_commit_callbacks
):
    client = client_for(sales_a)
    response = _upload(client)
    job = ImportJob.objects.get()
    assert response.url == reverse("dataio:import-mapping", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert 'value="first_name" selected' in page
    assert "Jan · Eva" in page  # the first values of a column

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            response.url,
            {"column-0": "first_name", "column-1": "last_name", "column-2": "email",
             "match_on": "email", "save_as": "Onze lijst"},
        )  # fmt: skip
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.preview["create"], job.preview["reject"]) == (
        "checked", 2, 1, 1
    )  # fmt: skip
    page = client.get(reverse("dataio:import-detail", args=[job.pk])).content.decode()
    assert "Email: Enter a valid email address" in page

    # The saved mapping maps the next file with the same columns.
    _upload(client, CSV.replace(b"Achternaam", b"ACHTERNAAM"))
    assert ImportJob.objects.latest("id").match_on == "email"


def test_a_mapping_with_a_field_twice_or_without_a_name_is_refused(client_for, sales_a):
    client = client_for(sales_a)
    _upload(client)
    job = ImportJob.objects.get()
    url = reverse("dataio:import-mapping", args=[job.pk])

    page = client.post(url, {"column-0": "email", "column-1": "", "column-2": "email"})

    text = page.content.decode()
    assert "chosen more than once: email" in text
    assert "Choose a column for one of: last name, full name." in text
    job.refresh_from_db()
    assert job.status == "uploaded"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "leeg.csv", "file is empty."),
        (b"%PDF-1.7\x00\x00\x01binary", "offerte.csv", "not a CSV or Excel"),
        (b"PK\x03\x04kapot", "lijst.xlsx", "could not be opened"),
    ],
)
def test_files_that_are_not_tables_get_a_message_and_no_import(
    client_for, sales_a, content, name, message
):
    response = _upload(client_for(sales_a), content, name)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_read_only_users_cannot_import(client_for, read_only_a):
    assert _upload(client_for(read_only_a)).status_code == 403
    assert not ImportJob.objects.exists()


def test_someone_elses_import_is_not_found_but_an_admin_sees_it(
    client_for, sales_a, sales_b, admin_user
):
    _upload(client_for(sales_a))
    job = ImportJob.objects.get()
    other = client_for(sales_b)
    for name, method in (
        ("import-detail", "get"), ("import-mapping", "get"), ("import-rejections", "get"),
        ("import-start", "post"), ("import-delete", "post"),
    ):  # fmt: skip
        response = getattr(other, method)(reverse(f"dataio:{name}", args=[job.pk]))
        assert response.status_code == 404, name
    assert job.file_name not in other.get(reverse("dataio:import-list")).content.decode()

    admin = client_for(admin_user)
    assert job.file_name in admin.get(reverse("dataio:import-list")).content.decode()
    assert admin.get(reverse("dataio:import-detail", args=[job.pk])).status_code == 200


def test_a_running_import_shows_its_progress_and_asks_again(client_for, sales_a):
    _upload(client_for(sales_a))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, total_rows=1000, processed_rows=500
    )

    response = client_for(sales_a).get(
        reverse("dataio:import-detail", args=[job.pk]), headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert 'aria-valuenow="50"' in page
    assert "500 of 1000 rows" in page
    assert 'hx-trigger="every 1s"' in page
    assert "<html" not in page  # only the part that refreshes


def test_the_mapping_step_offers_each_column_as_a_custom_field(
    client_for, sales_a, django_capture_on_commit_callbacks
):
    client = client_for(sales_a)
    _upload(client, b"Achternaam;Leeftijd;Regio\nJansen;41;Noord\nBakker;1,5;\n")
    job = ImportJob.objects.get()
    url = reverse("dataio:import-mapping", args=[job.pk])

    page = client.get(url).content.decode()

    assert job.mapping == ["last_name", "", ""]  # unknown headers stay unmapped
    assert '<option value="custom:Leeftijd">Custom field “Leeftijd”</option>' in page
    assert '<option value="custom:Regio">Custom field “Regio”</option>' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {"column-0": "last_name", "column-1": "custom:Leeftijd", "column-2": "custom:Regio"},
        )
    job.refresh_from_db()
    assert (job.status, job.preview["create"], job.preview["reject"]) == ("checked", 2, 0)
    page = client.get(url).content.decode()
    assert '<option value="custom:Leeftijd" selected>' in page
