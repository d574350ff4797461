"""The training centre: lessons with checked steps, Grand Central, quizzes, workshops.

Extension points for features that land later:
- CRD registration: lesson step third-party-sellers/custom-kind-served already uses the
  registered `crd_served` check; delete its `coming:` line in content/lessons.yaml once the
  API server serves kinds from CustomResourceDefinitions.
- Outage and overload scenarios: steps always-open/outage and overload/overload-scenario
  name the checks "scenario-outage" and "scenario-overload". Register them from the
  scenario app's AppConfig.ready() with `learning.checks.register(name)` and delete the
  steps' `coming:` lines; quiz "do it" questions can then name them too. Controls for
  starting a scenario go on the instructor dashboard with
  `learning.workshops.register_panel(template, context)`.
"""
