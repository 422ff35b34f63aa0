"""pytest options of the suite."""


def pytest_addoption(parser):
    parser.addoption("--slow-controls", action="store_true",
                     help="also run the claims' slow controls (runs that really train; `make controls`)")
