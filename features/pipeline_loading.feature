Feature: A run loads only the pipelines it asks for

  As Kedro's own scenario "selective pipeline loading skips unrelated pipeline
  modules": the project's registry calls find_pipelines(raise_errors=True), and
  a pipeline module that no run asks for fails to import.

  Background:
    Given a clean project
    And a pipeline module "broken" that fails to import

  Scenario Outline: selective pipeline loading skips unrelated pipeline modules
    Given settings.py sets SESSION_CLASS to <session>
    When I run `kedro run --pipelines numbers`
    Then the command succeeds
    And the nodes that ran are scale_node, summarise_node

    Examples:
      | session                        |
      | Kedro's default KedroSession   |
      | kedro-runtime's KedroSession   |

  Scenario: asking for every pipeline reaches the broken module
    When I run `kedro run`
    Then the command fails with exit code 1
    And the output says "pipelines.broken"
