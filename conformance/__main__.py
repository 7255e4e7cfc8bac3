"""``python -m conformance``: run the suite, print the table, write the reports."""

if __name__ == "__main__":
    import sys

    from conformance.cli import main

    sys.exit(main())
