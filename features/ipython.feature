Feature: kedro ipython gives a session that runs again and again

  Scenario: two runs with different runtime parameters, no %reload_kedro
    Given a clean project
    When I run `kedro ipython -c "print('RESULT', type(session).__module__, context.catalog is catalog, session.run(runtime_params=dict(label='ipy', factor=3))['report'].load()['total'][0], session.run()['report'].load()['total'][0])"`
    Then the command succeeds
    And the output says "RESULT kedro_runtime.session True 30 20"
    And "report_ipy.csv" has a total of 30 over 4 rows
    And "report_plain.csv" has a total of 20 over 4 rows
