from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from koers.scoring import services


@db_task()
def contacts_score(contact_ids: list[int]) -> int:
    """Score the contacts that have new events (safe to run twice: it scores afresh)."""
    return len(services.contacts_score(contact_ids=contact_ids))


@db_task()
def scores_recompute() -> int:
    """Score everyone from all events, after the rules or the half-life changed."""
    return services.scores_recompute()


@db_periodic_task(crontab(minute="17"))
def scores_fade() -> int:
    """Keep stored scores at one moment, so lists sort by today's engagement."""
    return services.scores_fade()


@db_task()
def fits_recompute(job_id: int) -> None:
    """Fit every company to the ICP as the job asks (safe to run twice: it fits afresh)."""
    from koers.scoring import fit, jobs

    jobs.job_run(job_id, fit.fits_recompute)


@db_periodic_task(crontab(minute="*/10"))
def fits_refresh() -> int:
    """Fit the companies that changed without an event (imports) or have no fit yet."""
    from koers.scoring import fit

    return fit.fits_refresh_stale()


def model_retrain_work(report) -> str:
    """Train the predictive model, then score every open contact with the newest ready one:
    one job, one progress bar over both (a job's work: returns its closing message)."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from koers.scoring import conversion, predict
    from koers.scoring.models import ConversionModel

    batches = len(predict.id_windows())  # the scoring's steps
    steps = predict.FOLDS + 3
    report(0, steps + batches)
    model = conversion.model_train(report=lambda done, _steps: report(done, steps + batches))
    scored = conversion.conversions_predict(
        report=lambda done, count: report(steps + done, steps + count)
    )
    if model.status != ConversionModel.Status.READY:
        return _(
            "Too little history to train: %(customers)d customers and %(nos)d no's; the model "
            "needs %(need)d of each."
        ) % {
            "customers": model.positives,
            "nos": model.card["negatives"],
            "need": model.card["need"],
        }
    return ngettext(
        "Trained on %(rows)d decided contacts; %(scored)d open contact scored.",
        "Trained on %(rows)d decided contacts; %(scored)d open contacts scored.",
        scored,
    ) % {"rows": model.rows, "scored": scored}


@db_task()
def model_retrain(job_id: int) -> None:
    """Train the model and score every open contact as the job asks (safe to run twice: a
    new model is trained and everyone is scored afresh)."""
    from koers.scoring import jobs

    jobs.job_run(job_id, model_retrain_work)


@db_periodic_task(crontab(day_of_week="1", hour="3", minute="0"))
def model_retrain_weekly() -> None:
    """Learn from the week's new customers and no's, early on Monday."""
    from koers.scoring import jobs
    from koers.scoring.models import ScoringJob

    jobs.job_run(jobs.job_create(kind=ScoringJob.Kind.TRAIN).pk, model_retrain_work)


def conversions_predict_work(report) -> str:
    from django.utils.translation import ngettext

    from koers.scoring import conversion

    scored = conversion.conversions_predict(report=report)
    return ngettext(
        "%(scored)d open contact scored.", "%(scored)d open contacts scored.", scored
    ) % {"scored": scored}


@db_periodic_task(crontab(hour="2", minute="30"))
def conversions_predict_nightly() -> None:
    """Score every open contact each night: what the team learned that day counts tomorrow."""
    from koers.scoring import jobs
    from koers.scoring.models import ScoringJob

    jobs.job_run(jobs.job_create(kind=ScoringJob.Kind.PREDICT).pk, conversions_predict_work)
