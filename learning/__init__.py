"""The training centre: lessons with checked steps, Grand Central, quizzes, workshops.

Extension points:
- Lesson checks: `learning.checks.register(name)` in an AppConfig.ready() (or a module it
  imports); a step naming an unregistered check shows as "coming" until then.
- Dashboard panels: `learning.workshops.register_panel(template, context)`.

Used by this app itself: `learning.scenarios` registers the checks "scenario-outage" and
"scenario-overload" and the dashboard panel that starts and ends the scenarios;
`learning.faults` makes the outage, slowdown and overload happen, entering the API server
only through its fault hook (`apiserver.filters.faults.register`, done in
`LearningConfig.ready()`); `crd_served` checks the CustomResourceDefinition step.

Like every other part, this app reads the API server through its front door: requests
through `apiserver.client`, identities from `apiserver.accounts`, the audit log and served
kinds from `apiserver.readmodel`.
"""
