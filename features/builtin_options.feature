Feature: kedro run from kedro-runtime keeps every option of Kedro's kedro run

  The project is generated with `kedro new`; kedro-runtime is installed in its
  environment and its settings.py sets SESSION_CLASS to kedro-runtime's
  KedroSession. Its __default__ pipeline runs scale_node (tag scaling) and
  summarise_node (tag reporting) from the numbers pipeline, and
  audit.count_node from the audit pipeline (namespace audit). numbers.csv holds
  1, 2, 3 and 4; factor is 2 and offset 0, so the report's total is 20.

  Scenario: the help shows Kedro's options and the new ones
    When I run `kedro run --help`
    Then the command succeeds
    And the help lists every option of Kedro's kedro run and --runtime-params and --runtime-data

  Scenario: a plain run runs the default pipeline
    Given a clean project
    When I run `kedro run`
    Then the command succeeds
    And the nodes that ran are all
    And "report_plain.csv" has a total of 20 over 4 rows

  Scenario Outline: options that choose nodes choose the same nodes as Kedro's command
    Given the project has been run
    When I run `kedro run <options>`
    Then the command succeeds
    And the nodes that ran are <nodes>

    Examples:
      | options                                            | nodes                            |
      | --pipelines numbers                                | scale_node, summarise_node       |
      | --pipelines numbers,audit                          | all                              |
      | --pipeline audit                                   | audit.count_node                 |
      | -p numbers                                         | scale_node, summarise_node       |
      | --tags reporting                                   | summarise_node                   |
      | -t scaling,reporting                               | scale_node, summarise_node       |
      | --nodes scale_node                                 | scale_node                       |
      | -n summarise_node,audit.count_node                 | summarise_node, audit.count_node |
      | --from-nodes summarise_node                        | summarise_node                   |
      | --to-nodes scale_node                              | scale_node                       |
      | --from-inputs scaled                               | summarise_node, audit.count_node |
      | --to-outputs report                                | scale_node, summarise_node       |
      | --namespaces audit                                 | audit.count_node                 |
      | -ns audit                                          | audit.count_node                 |
      | --pipelines numbers --tags reporting               | summarise_node                   |

  Scenario Outline: runners and their options run every node
    Given a clean project
    When I run `kedro run <options>`
    Then the command succeeds
    And the nodes that ran are all
    And "report_plain.csv" has a total of 20 over 4 rows

    Examples:
      | options                                            |
      | --runner SequentialRunner                          |
      | -r ThreadRunner --runner-params max_workers=2      |
      | --runner ParallelRunner                            |
      | --async                                            |
      | --runner-params is_async=True                      |

  Scenario: --params sets parameters, as in Kedro
    Given a clean project
    When I run `kedro run --params factor=3,offset=1`
    Then the command succeeds
    And "report_plain.csv" has a total of 31 over 4 rows

  Scenario: --params fills ${runtime_params:...} in the catalog, as in Kedro
    Given a clean project
    When I run `kedro run --params label=from_params`
    Then the command succeeds
    And "report_from_params.csv" has a total of 20 over 4 rows
    And "report_plain.csv" was not written

  Scenario: --load-versions loads an older version
    Given a clean project
    And two versions of scaled were saved, with factors 2 and 3
    When I run `kedro run --from-nodes summarise_node --load-versions scaled:{first_scaled_version}`
    Then the command succeeds
    And the nodes that ran are summarise_node
    And "report_plain.csv" has a total of 20 over 4 rows

  Scenario: --env reads another configuration environment
    Given a clean project
    And the "e2e" environment sets factor to 5
    When I run `kedro run --env e2e`
    Then the command succeeds
    And "report_plain.csv" has a total of 50 over 4 rows

  Scenario: -e is --env
    Given a clean project
    And the "e2e" environment sets factor to 6
    When I run `kedro run -e e2e --pipelines numbers`
    Then the command succeeds
    And "report_plain.csv" has a total of 60 over 4 rows

  Scenario: --conf-source reads configuration from another directory
    Given a clean project
    And a copy of the configuration in "other_conf" where factor is 7
    When I run `kedro run --conf-source other_conf`
    Then the command succeeds
    And "report_plain.csv" has a total of 70 over 4 rows

  Scenario: --config reads options from a file; the command line wins
    Given a clean project
    And the config file "other_conf/run.yml"
      """
      run:
        pipelines: numbers
        params: factor=4
        tags: scaling, reporting
      """
    When I run `kedro run --config other_conf/run.yml --params factor=9`
    Then the command succeeds
    And the nodes that ran are scale_node, summarise_node
    And "report_plain.csv" has a total of 90 over 4 rows

  Scenario: --only-missing-outputs runs only the nodes whose outputs are missing
    Given a clean project
    And the project has been run
    When I run `kedro run --only-missing-outputs`
    Then the command succeeds
    And the nodes that ran are none

  Scenario: --only-missing-outputs runs a node whose output is missing
    Given a clean project
    And the project has been run
    When I run `kedro run --only-missing-outputs --params label=fresh`
    Then the command succeeds
    And the nodes that ran are summarise_node
    And "report_fresh.csv" has a total of 20 over 4 rows
