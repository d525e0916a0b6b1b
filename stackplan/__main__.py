from stackplan.cli.main import main

main()
