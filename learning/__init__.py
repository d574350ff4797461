"""The training centre: lessons with checked steps, Grand Central, quizzes, workshops.

Extension points:
- Lesson checks: `learning.checks.register(name)` in an AppConfig.ready() (or a module it
  imports); a step naming an unregistered check shows as "coming" until then.
- Dashboard panels: `learning.workshops.register_panel(template, context)`.

Used by this app itself: `learning.scenarios` registers the checks "scenario-outage" and
"scenario-overload" and the dashboard panel that starts and ends the API server scenarios
(`apiserver.scenarios`); `crd_served` checks the CustomResourceDefinition step.
"""
