"""Imports through the service path: mapping, dry run, writing, matching, suppression."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from koers.core.models import AuditEntry
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact, LifecycleStage, Suppression
from koers.crm.services import contact_update, suppression_add
from koers.dataio import targets
from koers.dataio.models import ImportJob
from koers.dataio.services import imports

HUBSPOT_HEADERS = (
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Lifecycle Stage,Contact owner"
)


def _file(tmp_path: Path, text: str, name: str = "contacts.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _import(actor, path: Path, target="contacts", match_on=None, mapping=None) -> ImportJob:
    actor.language = "en"
    actor.save(update_fields=["language"])
    job = imports.import_job_create(actor=actor, target=target, file_name=path.name, path=path)
    imports.import_job_configure(
        actor=actor,
        job=job,
        mapping=mapping or job.mapping,
        match_on=job.match_on if match_on is None else match_on,
    )
    return job


def _check_and_run(job: ImportJob) -> ImportJob:
    job = imports.import_job_check(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    return imports.import_job_run(job_id=job.pk)


def test_hubspot_pipedrive_salesforce_and_dutch_headers_are_mapped():
    contacts = targets.get("contacts")
    companies = targets.get("companies")
    assert contacts.suggest(HUBSPOT_HEADERS.split(",")) == [
        "external_id", "first_name", "last_name", "email", "phone", "company_name",
        "lifecycle_stage", "owner",
    ]  # fmt: skip
    # Pipedrive's person export and Salesforce's contact report.
    assert contacts.suggest(["Person - Name", "Person - Email", "Organization - Name"]) == [
        "full_name", "email", "company_name"
    ]  # fmt: skip
    assert contacts.suggest(["Contact ID", "Title", "MobilePhone", "Account Name"]) == [
        "external_id", "job_title", "mobile", "company_name"
    ]  # fmt: skip
    assert companies.suggest(
        ["Bedrijfsnaam", "KvK-nummer", "Btw-nummer", "Plaats", "Postcode", "Website", "Onbekend"]
    ) == ["name", "kvk_number", "vat_number", "city", "postcode", "domain", ""]


def test_dry_run_counts_and_names_row_and_field_of_every_error(sales_a, tmp_path):
    ContactFactory(owner=sales_a, email="bestaand@bakkerij.nl", last_name="Bestaand")
    path = _file(
        tmp_path,
        "Voornaam;Achternaam;E-mailadres;Telefoon\n"
        "Jan;Jansen;jan@bakkerij.nl;06-12345678\n"
        "Piet;Bestaand;BESTAAND@bakkerij.nl;\n"
        "Kees;;kees@;0612\n"
        "Klaas;<script>alert(1)</script>;klaas@bakkerij.nl;\n",
    )
    job = _import(sales_a, path)
    assert job.mapping == ["first_name", "last_name", "email", "phone"]
    assert job.match_on == "email"

    job = imports.import_job_check(job_id=job.pk)

    assert job.status == ImportJob.Status.CHECKED
    assert job.total_rows == 4
    assert (job.preview["create"], job.preview["update"], job.preview["reject"]) == (1, 1, 2)
    errors = dict(job.preview["errors"])
    assert set(errors) == {4, 5}
    assert "Email: Enter a valid email address" in errors[4]
    assert "Phone: Enter a valid phone number" in errors[4]
    assert "This row has no last name or full name." in errors[4]
    assert "Last name: A name cannot be a formula or contain HTML." in errors[5]
    assert Contact.objects.count() == 1  # a dry run writes nothing


def test_run_creates_normalised_contacts_links_companies_and_audits(sales_a, tmp_path):
    company = CompanyFactory(owner=sales_a, name="Bakkerij Jansen B.V.")
    path = _file(
        tmp_path,
        HUBSPOT_HEADERS + "\n"
        "101,Jan,Jansen, Jan@Bakkerij.NL ,06-12345678,bakkerij jansen,customer,\n"
        "102,Eva,de Wit,eva@nieuw.nl,+31 20 123 4567,Nieuw Bedrijf BV,marketingqualifiedlead,\n"
        "103,Mo,Ali,not-an-email,,,,\n",
    )

    job = _check_and_run(_import(sales_a, path))

    assert (job.status, job.created_count, job.rejected_count) == ("done", 2, 1)
    jan = Contact.objects.get(external_id="101")
    assert (jan.email, jan.phone, jan.company_id) == ("jan@bakkerij.nl", "+31612345678", company.pk)
    assert jan.lifecycle_stage == LifecycleStage.CUSTOMER
    assert (jan.owner, jan.lead_source) == (sales_a, Contact.LeadSource.IMPORT)
    eva = Contact.objects.get(external_id="102")
    assert eva.lifecycle_stage == LifecycleStage.MQL
    assert eva.company.name == "Nieuw Bedrijf BV"
    assert eva.company.name_key == "nieuw bedrijf"
    assert eva.company.owner == sales_a
    audit = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Contact), object_id=jan.pk
    )
    assert (audit.action, audit.actor, audit.changes["email"]) == (
        "created",
        sales_a,
        [None, "jan@bakkerij.nl"],
    )
    rejection = job.rejections.get()
    assert rejection.row_number == 4
    assert rejection.values[:4] == ["103", "Mo", "Ali", "not-an-email"]
    assert "Email: " in rejection.reason


def test_running_the_same_file_again_updates_instead_of_duplicating(sales_a, tmp_path):
    path = _file(tmp_path, "Email,First name,Last name\nan@x.nl,An,Smit\nbo@x.nl,Bo,Bos\n")
    _check_and_run(_import(sales_a, path))
    changed = _file(
        tmp_path, "Email,First name,Last name\nan@x.nl,Anna,Smit\nbo@x.nl,,Bos\n", "again.csv"
    )

    job = _check_and_run(_import(sales_a, changed))

    assert (job.created_count, job.updated_count) == (0, 2)
    assert Contact.objects.count() == 2
    assert Contact.objects.get(email="an@x.nl").first_name == "Anna"
    assert Contact.objects.get(email="bo@x.nl").first_name == "Bo"  # an empty cell erases nothing
    update = AuditEntry.objects.filter(action="updated").get()
    assert update.changes == {"first_name": ["An", "Anna"]}


def test_a_repeated_key_in_one_file_makes_one_record(sales_a, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)  # the repeat falls in the next batch too
    path = _file(
        tmp_path,
        "Email,Last name,Job title,Company\n"
        "a@x.nl,Aa,,Eén B.V.\nb@x.nl,Bee,,Eén\na@x.nl,Aa,Directeur,Eén BV\nb@x.nl,Bee,CFO,Twee\n",
    )
    job = imports.import_job_check(job_id=_import(sales_a, path).pk)
    assert (job.preview["create"], job.preview["update"], job.preview["companies"]) == (2, 2, 2)

    job = _check_and_run(job)

    assert Contact.objects.count() == 2
    assert Contact.objects.get(email="a@x.nl").job_title == "Directeur"
    assert (job.created_count, job.updated_count) == (2, 2)
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Eén B.V.", "Twee"]


def test_matching_never_touches_records_the_importer_cannot_see(sales_a, sales_b, tmp_path):
    theirs = ContactFactory(owner=sales_b, email="zelfde@x.nl", first_name="Oud")
    path = _file(tmp_path, "Email,First name,Last name\nzelfde@x.nl,Nieuw,Naam\n")

    job = _check_and_run(_import(sales_a, path))

    theirs.refresh_from_db()
    assert theirs.first_name == "Oud"
    assert job.created_count == 1
    assert Contact.objects.get(owner=sales_a).first_name == "Nieuw"


def test_suppressed_people_are_never_made_contactable_again(sales_a, tmp_path):
    erased = ContactFactory(owner=sales_a, email="weg@x.nl", phone="")
    suppression_add(contact=erased, reason=Suppression.Reason.ERASED)
    erased.delete()
    objected = ContactFactory(owner=sales_a, email="nee@x.nl", phone="")
    contact_update(actor=sales_a, contact=objected, do_not_call=True)
    path = _file(
        tmp_path,
        "Email,Last name,Do not call\nweg@x.nl,Weg,nee\nnee@x.nl,Nee,nee\nnieuw@x.nl,Nieuw,\n",
    )

    job = _check_and_run(_import(sales_a, path))

    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 1, 1)
    assert not Contact.objects.filter(email="weg@x.nl").exists()
    assert Contact.objects.get(email="nee@x.nl").do_not_call is True
    assert Contact.objects.get(email="nieuw@x.nl").do_not_call is False
    # Only hashes are kept.
    assert not Suppression.objects.filter(key_hash__contains="@").exists()


def test_a_new_row_of_someone_who_objected_comes_in_uncallable(sales_a, tmp_path):
    objected = ContactFactory(owner=sales_a, email="nee@x.nl", phone="")
    contact_update(actor=sales_a, contact=objected, do_not_call=True)
    path = _file(tmp_path, "Email,Last name\nnee@x.nl,Nee\n")

    _check_and_run(_import(sales_a, path, match_on=""))

    assert list(Contact.objects.filter(email="nee@x.nl").values_list("do_not_call", flat=True)) == [
        True,
        True,
    ]


def test_companies_import_validates_dutch_identifiers_and_matches_on_kvk(sales_a, tmp_path):
    existing = CompanyFactory(owner=sales_a, kvk_number="12345678", name="Oud B.V.", city="Utrecht")
    path = _file(
        tmp_path,
        "Bedrijfsnaam;KvK-nummer;Btw-nummer;Plaats;Postcode;Aantal medewerkers;Website\n"
        "Oud B.V.;12345678;;Amersfoort;3811 AA;37;https://www.oud.nl/\n"
        "Nieuw VOF;87654321;NL000099998B57;Zwolle;8011aa;2-9;nieuw.nl\n"
        "Fout B.V.;123;NL123;Delft;99;veel;\n",
        "bedrijven.csv",
        encoding="cp1252",
    )

    job = _check_and_run(_import(sales_a, path, target="companies"))

    assert job.match_on == "kvk_number"
    assert (job.created_count, job.updated_count, job.rejected_count) == (1, 1, 1)
    existing.refresh_from_db()
    assert (existing.city, existing.city_key, existing.employee_band, existing.domain) == (
        "Amersfoort",
        "amersfoort",
        "10-49",
        "oud.nl",
    )
    new = Company.objects.get(kvk_number="87654321")
    assert (new.vat_number, new.postcode, new.name_key) == ("NL000099998B57", "8011 AA", "nieuw")
    reason = job.rejections.get().reason
    for field in ("KvK number: ", "VAT number: ", "Postcode: ", "Employees: "):
        assert field in reason


@pytest.mark.parametrize(
    "written",
    ["2024-03-31", "31-03-2024", "31/03/2024", "31.03.2024", "31 maart 2024", "20240331",
     "March 31 2024"],
)  # fmt: skip
def test_dates_in_the_usual_formats(sales_a, tmp_path, written):
    path = _file(tmp_path, f"Last name,Opt-in date\nSmit,{written}\n")

    job = _check_and_run(_import(sales_a, path))

    if written == "March 31 2024":  # not a format Koers reads: a clear error, nothing lost
        assert "Enter a date" in job.rejections.get().reason
    else:
        assert Contact.objects.get().phone_opt_in_on == date(2024, 3, 31)


def test_formulas_and_markup_in_names_are_refused_with_the_reason(sales_a, tmp_path):
    path = _file(
        tmp_path,
        "First name,Last name,Company\n"
        '=HYPERLINK("http://x"),Smit,\n'
        "Eva,<img src=x onerror=alert(1)>,\n"
        "Eva,Bos,@SUM(A1)\n"
        "Tom,Eenvoudig,Gewoon <B.V.>\n",
    )

    job = _check_and_run(_import(sales_a, path))

    assert job.rejected_count == 4
    assert all("formula or contain HTML" in r.reason for r in job.rejections.all())
    assert Contact.objects.count() == 0


def test_a_100_mb_line_is_one_rejected_row_and_the_rest_is_imported(sales_a, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("w") as out:
        out.write("Last name,Email\nVoor,voor@x.nl\nLang,")
        chunk = "x" * (1024 * 1024)
        for _ in range(100):
            out.write(chunk)
        out.write("\nNa,na@x.nl\n")

    job = _check_and_run(_import(sales_a, path))

    assert (job.created_count, job.rejected_count) == (2, 1)
    assert job.rejections.get().row_number == 3
    assert set(Contact.objects.values_list("last_name", flat=True)) == {"Voor", "Na"}


def test_a_rerun_after_a_crash_resumes_without_duplicates(sales_a, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 10)
    lines = "".join(f"p{n}@x.nl,Persoon{n}\n" for n in range(35))
    job = imports.import_job_check(
        job_id=_import(sales_a, _file(tmp_path, "Email,Last name\n" + lines)).pk
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    original = imports._process
    calls = []

    def crash_in_third_batch(*args, **kwargs):
        calls.append(1)
        outcome = original(*args, **kwargs)
        if len(calls) == 3:
            raise RuntimeError("worker died")
        return outcome

    monkeypatch.setattr(imports, "_process", crash_in_third_batch)
    with pytest.raises(RuntimeError):
        imports.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    # The third batch was rolled back whole; the first two stay.
    assert (job.status, job.processed_rows, Contact.objects.count()) == ("failed", 20, 20)

    monkeypatch.setattr(imports, "_process", original)
    job = imports.import_job_run(job_id=job.pk)

    assert (job.status, job.processed_rows, job.created_count) == ("done", 35, 35)
    assert Contact.objects.count() == 35
    assert Contact.objects.values("email").distinct().count() == 35


def test_deals_and_activities_go_through_their_services_and_link_visible_records(
    sales_a, sales_b, manager, tmp_path
):
    from koers.activities.models import Activity
    from koers.pipeline.models import Deal
    from koers.pipeline.services import pipeline_create_from_template

    pipeline_create_from_template(actor=manager, sales_model="inbound")
    company = CompanyFactory(owner=sales_a, name="Veldhuis B.V.", kvk_number="11223344")
    CompanyFactory(owner=sales_b, name="Van Anderen B.V.")
    anna = ContactFactory(owner=sales_a, company=company, email="anna@veldhuis.nl")
    deals = _file(
        tmp_path,
        "Deal name;Amount;Close date;Company;Email\n"
        "Uitbreiding;1.500,50;31-12-2026;veldhuis bv;anna@veldhuis.nl\n"
        "Niet de mijne;100;;Van Anderen B.V.;\n",
        "deals.csv",
    )

    job = _check_and_run(_import(sales_a, deals, target="deals"))

    assert (job.created_count, job.rejected_count) == (1, 1)
    deal = Deal.objects.get()
    assert (deal.name, deal.company, deal.amount_one_off, deal.expected_close_on) == (
        "Uitbreiding",
        company,
        Decimal("1500.50"),
        date(2026, 12, 31),
    )
    assert list(deal.contacts.all()) == [anna]
    assert "none you can see matches “Van Anderen B.V.”" in job.rejections.get().reason

    activities = _file(
        tmp_path,
        "Type,Subject,Date,Email\nCall,Intake,2026-03-05 14:30,anna@veldhuis.nl\nFax,Oud,,\n",
        "activities.csv",
    )
    job = _check_and_run(_import(sales_a, activities, target="activities"))

    assert (job.created_count, job.rejected_count) == (1, 1)
    call = Activity.objects.get(subject="Intake")
    assert (call.kind, call.contact, call.company) == ("call", anna, company)
    assert timezone.localtime(call.occurred_at).hour == 14
    assert "Kind: “Fax” is not one of the choices" in job.rejections.get().reason


def test_an_excel_file_imports_like_a_csv(sales_a, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Bedrijfsnaam", "KvK-nummer", "Plaats", "Aantal medewerkers", "Opgericht"])
    sheet.append(["Veldhuis Logistiek B.V.", 12345678, "Zwolle", 120, date(1998, 5, 1)])
    sheet.append(['=HYPERLINK("x")', 87654321, "Delft", 3, None])
    path = tmp_path / "bedrijven.xlsx"
    workbook.save(path)

    job = _check_and_run(_import(sales_a, path, target="companies"))

    assert (job.created_count, job.rejected_count) == (1, 1)
    company = Company.objects.get()
    # Numbers in cells come in as the digits people typed: the KvK number stays text.
    assert (company.name, company.kvk_number, company.city, company.employee_band) == (
        "Veldhuis Logistiek B.V.",
        "12345678",
        "Zwolle",
        "100-249",
    )
    # A formula cell has no value Koers could read (Excel never calculated it here).
    assert job.rejections.get().reason == "Name: this row has none."


def test_the_check_points_out_new_companies_that_nearly_match_existing_ones(
    sales_a, sales_b, tmp_path
):
    CompanyFactory(owner=sales_a, name="Bakkerij Janssen B.V.")
    CompanyFactory(owner=sales_b, name="Drukkerij Noord B.V.")  # not the importer's to see
    path = _file(
        tmp_path,
        "Email,Last name,Company\n"
        "a@x.nl,Aa,Bakkerij Jansen\n"
        "b@x.nl,Bee,Drukkerij Noordd\n"
        "c@x.nl,Cee,Heel Iets Anders\n",
    )

    job = imports.import_job_check(job_id=_import(sales_a, path).pk)

    assert job.preview["companies"] == 3
    assert job.preview["near"] == [[2, "Bakkerij Jansen", "Bakkerij Janssen B.V."]]


def test_new_records_never_take_the_id_of_one_erased_before(sales_a, tmp_path):
    first = _check_and_run(_import(sales_a, _file(tmp_path, "Last name\nEen\nTwee\n")))
    assert first.created_count == 2
    last = Contact.objects.order_by("-id").first()
    last_id = last.pk
    last.delete()  # as the trash purge erases it

    _check_and_run(_import(sales_a, _file(tmp_path, "Last name\nDrie\n", "again.csv")))

    assert Contact.objects.get(last_name="Drie").pk > last_id


def test_a_check_that_fails_leaves_nothing_a_run_could_resume_from(sales_a, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    job = _import(sales_a, _file(tmp_path, "Last name\nA\nB\nC\nD\nE\n"))
    original, calls = imports._process, []

    def fail_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(imports, "_process", fail_third)
    with pytest.raises(RuntimeError):
        imports.import_job_check(job_id=job.pk)
    job.refresh_from_db()

    assert (job.status, job.processed_rows) == ("uploaded", 0)
    with pytest.raises(ValidationError):
        imports.import_job_start(actor=sales_a, job=job)


def test_someone_no_longer_allowed_to_write_cannot_start_or_continue_an_import(
    admin_user, sales_a, tmp_path
):
    from koers.core.services import user_update

    job = imports.import_job_check(job_id=_import(sales_a, _file(tmp_path, "Last name\nA\n")).pk)
    user_update(actor=admin_user, user=sales_a, role="read_only")

    with pytest.raises(PermissionDenied):
        imports.import_job_start(actor=sales_a, job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    with pytest.raises(PermissionDenied):
        imports.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "failed"
    assert not Contact.objects.exists()


def test_control_characters_in_a_cell_are_a_row_error(sales_a, tmp_path):
    # Past the first megabyte, which the file's inspection refuses whole when it holds NUL.
    filler = "".join(f"Persoon{n},p{n}@x.nl\n" for n in range(60_000))
    path = _file(tmp_path, "Last name,Email\n" + filler + "Ni\x00ls,n@x.nl\nGoed,g@x.nl\n")

    job = _check_and_run(_import(sales_a, path))

    assert (job.created_count, job.rejected_count) == (60_001, 1)
    rejection = job.rejections.get()
    assert "control characters" in rejection.reason
    assert rejection.values == ["Ni\ufffdls", "n@x.nl"]


def test_an_excel_file_that_unpacks_to_gigabytes_is_refused_before_reading(
    sales_a, tmp_path, monkeypatch
):
    from openpyxl import Workbook

    from koers.dataio import sources

    workbook = Workbook()
    workbook.active.append(["Bedrijfsnaam"])
    workbook.active.append(["Veldhuis"])
    path = tmp_path / "bom.xlsx"
    workbook.save(path)
    monkeypatch.setattr(sources, "MAX_XLSX_UNPACKED_BYTES", 1000)

    with pytest.raises(ValidationError) as refused, translation.override("en"):
        imports.import_job_create(actor=sales_a, target="companies", file_name=path.name, path=path)

    assert "unpacks to more than Koers reads" in refused.value.messages[0]


def test_a_do_not_call_column_puts_people_on_the_suppression_list(sales_a, tmp_path):
    from koers.crm.normalise import suppression_key

    path = _file(tmp_path, "Last name,Email,Bel me niet\nNee,nee@x.nl,ja\nJa,ja@x.nl,nee\n")

    _check_and_run(_import(sales_a, path))

    keys = set(Suppression.objects.values_list("key_hash", flat=True))
    assert suppression_key("email", "nee@x.nl") in keys
    assert suppression_key("email", "ja@x.nl") not in keys
