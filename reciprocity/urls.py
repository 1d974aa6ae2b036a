from django.urls import path

from .views import conflicts, disputes, exports, rounds, scores, ventures, waiting, welcome

app_name = "reciprocity"

urlpatterns = [
    path("waiting/", waiting.waiting, name="waiting"),
    path("welcome/", welcome.welcome, name="welcome"),
    path("meetings/<id:meeting_pk>/rounds/", rounds.meeting_rounds, name="meeting_rounds"),
    path(
        "meetings/<id:meeting_pk>/rounds/listening/",
        rounds.record_listening_round,
        name="record_listening_round",
    ),
    path(
        "meetings/<id:meeting_pk>/rounds/money/",
        rounds.record_money_round,
        name="record_money_round",
    ),
    path("conflicts/", conflicts.my_conflicts, name="my_conflicts"),
    path("crews/<id:crew_pk>/conflicts/new/", conflicts.open_conflict, name="open_conflict"),
    path("conflicts/<id:pk>/", conflicts.conflict, name="conflict"),
    path("conflicts/<id:pk>/confirm/", conflicts.confirm_resolution, name="confirm_resolution"),
    path(
        "conflicts/<id:pk>/no-resolution/",
        conflicts.record_no_resolution,
        name="record_no_resolution",
    ),
    path("ventures/", ventures.ventures, name="ventures"),
    path("ventures/new/", ventures.register_venture, name="register_venture"),
    path("ventures/<id:pk>/", ventures.venture, name="venture"),
    path("ventures/<id:pk>/confirm/", ventures.confirm_co_ownership, name="confirm_co_ownership"),
    path("crews/<id:crew_pk>/scores/", scores.crew_scores, name="crew_scores"),
    path("crews/<id:crew_pk>/entries/", scores.crew_entries, name="crew_entries"),
    path("crews/<id:crew_pk>/entries.csv", exports.crew_entries_csv, name="crew_entries_csv"),
    path("crews/<id:crew_pk>/entries.xlsx", exports.crew_entries_xlsx, name="crew_entries_xlsx"),
    path("entries/<id:pk>/", scores.entry, name="entry"),
    path("entries/<id:pk>/reverse/", scores.reverse_entry, name="reverse_entry"),
    path("entries/<id:pk>/dispute/", scores.dispute_deduction, name="dispute_deduction"),
    path("disputes/<id:pk>/", disputes.dispute, name="dispute"),
    path("disputes/<id:pk>/confirm/", disputes.confirm_dispute, name="confirm_dispute"),
    path("me/", scores.me, name="me"),
    path("me/entries/", scores.my_entries, name="my_entries"),
    path("me/entries.csv", exports.my_entries_csv, name="my_entries_csv"),
    path("me/entries.xlsx", exports.my_entries_xlsx, name="my_entries_xlsx"),
]
