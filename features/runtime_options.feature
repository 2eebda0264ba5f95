Feature: --runtime-params and --runtime-data

  Same project as in builtin_options.feature: the report's file name is
  report_${runtime_params:label, plain}.csv, numbers.csv holds 1, 2, 3 and 4,
  factor is 2 and offset 0.

  Background:
    Given a clean project

  Scenario: --runtime-params changes a parameter and a catalog path
    When I run `kedro run --runtime-params factor=4,label=runtime`
    Then the command succeeds
    And the nodes that ran are all
    And "report_runtime.csv" has a total of 40 over 4 rows
    And "report_plain.csv" was not written

  Scenario: --runtime-params types values as --params does
    When I run `kedro run --runtime-params offset=0.5,label=typed`
    Then the command succeeds
    And "report_typed.csv" has a total of 20.5 over 4 rows

  Scenario: --runtime-params and --params combine
    When I run `kedro run --params offset=1 --runtime-params factor=3,label=both`
    Then the command succeeds
    And "report_both.csv" has a total of 31 over 4 rows

  Scenario: --runtime-data reads another file
    Given the file "inputs/march.csv" holds the values 10,20
    When I run `kedro run --runtime-data numbers=inputs/march.csv`
    Then the command succeeds
    And "report_plain.csv" has a total of 60 over 2 rows

  Scenario: --runtime-data with an absolute path, --runtime-params and filters
    Given the file "inputs/april.csv" holds the values 1,1,1
    When I run `kedro run --runtime-data numbers={project}/inputs/april.csv --runtime-params label=april --pipelines numbers`
    Then the command succeeds
    And the nodes that ran are scale_node, summarise_node
    And "report_april.csv" has a total of 6 over 3 rows

  Scenario: --runtime-data on a dataset a node produces reads it and skips the node
    Given the versioned file "inputs/scaled.csv" holds the values 5,5
    When I run `kedro run --runtime-data scaled=inputs/scaled.csv`
    Then the command succeeds
    And the nodes that ran are summarise_node, audit.count_node
    And "report_plain.csv" has a total of 10 over 2 rows

  Scenario: the new options in a --config file
    Given the file "inputs/may.csv" holds the values 2,3
    And the config file "inputs/run.yml"
      """
      run:
        runtime_params:
          label: may
          factor: 10
        runtime_data:
          numbers: inputs/may.csv
      """
    When I run `kedro run --config inputs/run.yml`
    Then the command succeeds
    And "report_may.csv" has a total of 50 over 2 rows

  Scenario: python -m <package> takes the new options
    Given the file "inputs/june.csv" holds the values 7
    When I run `python -m e2e_demo --runtime-params label=pym,factor=3 --runtime-data numbers=inputs/june.csv`
    Then the command succeeds
    And "report_pym.csv" has a total of 21 over 1 rows

  Scenario: python -m <package> keeps the built-in options
    When I run `python -m e2e_demo --pipelines numbers --params factor=5`
    Then the command succeeds
    And the nodes that ran are scale_node, summarise_node
    And "report_plain.csv" has a total of 50 over 4 rows

  Scenario Outline: bad values print a clear error, exit non-zero and run nothing
    Given the file "inputs/march.csv" holds the values 10,20
    When I run `<command>`
    Then the command fails with exit code <code>
    And the output says "<message>"
    And the output shows no traceback
    And no report was written

    Examples:
      | command                                                  | code | message                                                          |
      | kedro run --runtime-params factor                        | 2    | Invalid format of `runtime_params` option                        |
      | kedro run --runtime-params =3                            | 2    | Parameter key cannot be an empty string                          |
      | kedro run --params factor=2 --runtime-params factor=3    | 2    | factor given in both                                             |
      | kedro run --runtime-data numbers                         | 2    | must be a dataset name and a path separated by '='               |
      | kedro run --runtime-data numbers=                        | 2    | the path for 'numbers' is empty                                  |
      | kedro run --runtime-data numberz=inputs/march.csv        | 2    | 'numberz' is not in the catalog. Did you mean numbers?           |
      | kedro run --runtime-data numberz=inputs/march.csv        | 2    | Entries with a file path: audit.row_count, numbers, report, scaled |
      | kedro run --runtime-data params:factor=inputs/march.csv  | 2    | 'params:factor' is a parameter, not a dataset                    |
      | kedro run --runtime-data numbers=inputs/missing.csv      | 2    | nothing to read for 'numbers'                                    |
      | kedro run --runtime-data numbers=inputs/march.csv --from-nodes summarise_node | 2 | Cannot inject 'numbers'                            |
      | python -m e2e_demo --runtime-data numbers                | 2    | must be a dataset name and a path separated by '='               |
      | kedro run --pipeline numbers --pipelines audit           | 1    | Options '--pipeline' and '--pipelines' cannot be used together   |

  Scenario: an entry without a file path cannot be given to --runtime-data
    Given the "e2e" environment sets factor to 2
    And the config file "conf/e2e/catalog.yml"
      """
      scaled:
        type: MemoryDataset
      """
    When I run `kedro run --env e2e --runtime-data scaled=inputs/scaled.csv`
    Then the command fails with exit code 2
    And the output says "the catalog entry 'scaled' (MemoryDataset) has no file path"
    And the output says "Entries with a file path: audit.row_count, numbers, report"
    And the output shows no traceback

  Scenario: a bad --config file is a clear error
    Given the config file "inputs/run.yml"
      """
      run:
        runtime_param: factor=3
      """
    When I run `kedro run --config inputs/run.yml`
    Then the command fails with exit code 1
    And the output says "key `runtime_param`"
    And the output says "Did you mean runtime_params"
    And the output shows no traceback
    And no report was written
