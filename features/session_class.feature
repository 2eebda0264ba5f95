Feature: which session kedro run uses

  Background:
    Given a clean project

  Scenario: Kedro's default session: a plain kedro run is Kedro's own
    Given settings.py sets SESSION_CLASS to Kedro's default KedroSession
    When I run `kedro run --params factor=3`
    Then the command succeeds
    And "report_plain.csv" has a total of 30 over 4 rows
    And the newest version of scaled is named as Kedro names it

  Scenario: Kedro's default session: the new options run on kedro-runtime's
    Given settings.py sets SESSION_CLASS to Kedro's default KedroSession
    When I run `kedro run --runtime-params label=default_session,factor=3`
    Then the command succeeds
    And "report_default_session.csv" has a total of 30 over 4 rows
    And the newest version of scaled is named as kedro-runtime names it

  Scenario: kedro-runtime's session: the run id is a kedro-runtime session id
    Given settings.py sets SESSION_CLASS to kedro-runtime's KedroSession
    When I run `kedro run`
    Then the command succeeds
    And the newest version of scaled is named as kedro-runtime names it

  Scenario: Kedro's default session: an unknown --config key is Kedro's error
    Given settings.py sets SESSION_CLASS to Kedro's default KedroSession
    And the config file "inputs/run.yml"
      """
      run:
        tagz: x
      """
    When I run `kedro run --config inputs/run.yml`
    Then the command fails with exit code 1
    And no report was written

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
