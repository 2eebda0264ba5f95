Feature: which session kedro run uses

  Background:
    Given a clean project

  Scenario: Kedro's default session: the command uses kedro-runtime's
    Given settings.py sets SESSION_CLASS to Kedro's default KedroSession
    When I run `kedro run --runtime-params label=default_session,factor=3`
    Then the command succeeds
    And "report_default_session.csv" has a total of 30 over 4 rows

  Scenario: a custom session of another lineage runs the built-in command
    Given settings.py sets SESSION_CLASS to a custom session of Kedro's lineage
    When I run `kedro run --params factor=3 --pipelines numbers`
    Then the command succeeds
    And the nodes that ran are scale_node, summarise_node
    And "report_plain.csv" has a total of 30 over 4 rows

  Scenario: a custom session of another lineage refuses the new options
    Given settings.py sets SESSION_CLASS to a custom session of Kedro's lineage
    When I run `kedro run --runtime-params factor=3`
    Then the command fails with exit code 2
    And the output says "--runtime-params need a kedro-runtime session"
    And the output says "AuditedSession"
    And the output shows no traceback
    And no report was written
