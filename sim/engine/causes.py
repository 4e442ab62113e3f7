"""Why an event happened: the cause of a run's first use of force, named by sim trace.

Forced events carry the code of what forced them (schedule() and injects write it); chosen events
are a REPLY when only the threat the actor felt opened the option (reach.py), THRESHOLD when the
option has requirements that were met, and a CHOICE otherwise.
"""

CAUSES = ("", "choice", "reply", "incident", "obligation", "red-line response", "inject", "threshold met")
CHOICE, REPLY, INCIDENT, OBLIGATION, RED_LINE, INJECT, THRESHOLD = range(1, 8)
