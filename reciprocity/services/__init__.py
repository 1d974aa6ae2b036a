"""The Reciprocity Game's writes: every point earned or lost is written here, and the
emails that say why.

Each function validates before it writes, runs in one transaction, and raises
``ValidationError`` with a readable message, changing nothing, when a rule is broken.
"""

from .conflicts import (
    confirm_resolution,
    expire_open_conflicts,
    mind_conflict_deadlines,
    open_conflict,
    record_no_resolution,
)
from .consistency import (
    apply_missed_meeting_deductions,
    award_consistency,
    settle_missed_meetings,
)
from .departures import release_departed
from .disputes import confirm_dispute, dispute_deduction
from .ledger import reverse_entry
from .notices import warn_conflicts_nearing_deadline
from .rounds import record_listening_round, record_money_round
from .ventures import confirm_co_ownership, register_venture

__all__ = [
    "apply_missed_meeting_deductions",
    "award_consistency",
    "confirm_co_ownership",
    "confirm_dispute",
    "confirm_resolution",
    "dispute_deduction",
    "expire_open_conflicts",
    "mind_conflict_deadlines",
    "open_conflict",
    "record_listening_round",
    "record_money_round",
    "record_no_resolution",
    "register_venture",
    "release_departed",
    "reverse_entry",
    "settle_missed_meetings",
    "warn_conflicts_nearing_deadline",
]
