from metricspec.cli import main

if __name__ == "__main__":  # not when chart worker processes (spawned) import the main module
    main()
