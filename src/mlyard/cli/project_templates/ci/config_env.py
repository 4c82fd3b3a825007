"""Print config/<env>.yml as environment variables for the following CI steps.

    python ci/config_env.py config/dev.yml DEV >> "$GITHUB_ENV"     (GitHub Actions)
    python ci/config_env.py config/dev.yml DEV --azure              (Azure Pipelines: setvariable)

Each `key: value` becomes PREFIX_KEY=value (DEV_WORKSPACE=dev).
"""

import sys

import yaml


def main(argv: list[str]) -> None:
    path, prefix, *flags = argv
    with open(path, encoding="utf-8") as file:
        values = yaml.safe_load(file)
    for key, value in values.items():
        name = f"{prefix}_{key}".upper()
        if "--azure" in flags:
            print(f"##vso[task.setvariable variable={name}]{value}")
        else:
            print(f"{name}={value}")


if __name__ == "__main__":
    main(sys.argv[1:])
