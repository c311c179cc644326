"""scripts/wait_for_roles.py: a bounded wait for the app's role assignments that says what it waited for."""

from __future__ import annotations

import json

from scripts.wait_for_roles import main, wait_for_roles

SCOPE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stdataabc"
OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
ROLE_DEFINITIONS = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions"
QUEUE = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
EXPECTED = [
    {"principalId": "PROD", "roleDefinitionId": OWNER, "role": "Storage Blob Data Owner", "scope": SCOPE},
    {"principalId": "PROD", "roleDefinitionId": QUEUE, "role": "Storage Queue Data Contributor", "scope": SCOPE},
    {"principalId": "STAGING", "roleDefinitionId": OWNER, "role": "Storage Blob Data Owner", "scope": SCOPE},
]


class Assignments:
    """`az role assignment list --scope` whose answer grows by one assignment per call (replication)."""

    def __init__(self, visible_after: list[int]) -> None:
        self.visible_after = visible_after
        self.calls = 0

    def __call__(self, args) -> str:
        args = list(args)
        assert args[:3] == ["role", "assignment", "list"] and args[args.index("--scope") + 1] == SCOPE
        self.calls += 1
        return json.dumps([
            {
                "principalId": a["principalId"].lower(),
                "roleDefinitionId": f"{ROLE_DEFINITIONS}/{a['roleDefinitionId']}",
            }
            for a, after in zip(EXPECTED, self.visible_after, strict=True)
            if self.calls > after
        ])  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_waits_until_every_assignment_is_visible_and_says_so():
    lines, clock = [], Clock()
    done = wait_for_roles(EXPECTED, Assignments([0, 1, 2]), 600, 15, lines.append, clock, clock.sleep)
    assert done is True
    assert lines[0] == "waiting up to 600s for 3 role assignment(s):"
    assert "  Storage Queue Data Contributor for PROD on stdataabc" in lines
    assert "0s: 2 of 3 not visible yet" in lines and "15s: 1 of 3 not visible yet" in lines
    assert lines[-1] == "all 3 role assignment(s) visible after 30s"


def test_gives_up_at_the_bound_and_lists_what_is_missing():
    lines, clock = [], Clock()
    done = wait_for_roles(EXPECTED, Assignments([0, 0, 10_000]), 60, 15, lines.append, clock, clock.sleep)
    assert done is False
    assert clock.now <= 60
    assert lines[-2:] == [
        "FAIL after 60s, 1 role assignment(s) still missing:",
        "  Storage Blob Data Owner for STAGING on stdataabc",
    ]


def test_cli_reads_the_output_without_case(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"azurE_APP_ROLE_ASSIGNMENTS": {"type": "Array", "value": EXPECTED}}))
    assert main([str(path), "--timeout", "5", "--interval", "1"], az=Assignments([0, 0, 0])) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "all 3 role assignment(s) visible after 0s"
    path.write_text(json.dumps({"AZURE_RESOURCE_GROUP": {"type": "String", "value": "rg"}}))
    assert main([str(path)], az=Assignments([0, 0, 0])) == 2
    assert "no output 'AZURE_APP_ROLE_ASSIGNMENTS'" in capsys.readouterr().err
