"""Unit tests for app.load_secrets, stdlib only: `cd examples/api && python3 -m unittest tests/test_load_secrets.py`."""

from __future__ import annotations

import io
import json
import os
import unittest
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from app import load_secrets

VALUE = "s3cr3t-value-that-must-never-be-printed"


class ParseSecretTest(unittest.TestCase):
    def test_object_of_scalars_becomes_environment(self) -> None:
        env = load_secrets.parse_secret(json.dumps({"DB_PASSWORD": VALUE, "POOL": 5, "DEBUG": False, "RATIO": 0.5}))
        self.assertEqual(env, {"DB_PASSWORD": VALUE, "POOL": "5", "DEBUG": "false", "RATIO": "0.5"})

    def test_errors_name_keys_never_values(self) -> None:
        cases = {
            f'{{"DB_PASSWORD": "{VALUE}"': "not JSON",
            json.dumps([VALUE]): "not an object (got list)",
            json.dumps({"bad-key": VALUE}): "'bad-key' is not a valid environment variable name",
            json.dumps({"PATH": VALUE}): "'PATH' may not be set from a secret",
            json.dumps({"NESTED": {"v": VALUE}}): "'NESTED' holds a dict",
        }
        for secret_string, expected in cases.items():
            with self.subTest(expected=expected):
                with self.assertRaises(load_secrets.SecretLoadError) as ctx:
                    load_secrets.parse_secret(secret_string)
                self.assertIn(expected, str(ctx.exception))
                self.assertNotIn(VALUE, str(ctx.exception))
                self.assertIsNone(ctx.exception.__cause__)

    def test_merged_environment_records_key_names_only(self) -> None:
        env = load_secrets.merged_environment({"HOME": "/app"}, {"B": VALUE, "A": "x"})
        self.assertEqual(env["APP_SECRET_KEYS"], "A,B")
        self.assertEqual(env["B"], VALUE)
        self.assertEqual(env["HOME"], "/app")


class MainTest(unittest.TestCase):
    def run_main(self, environ: dict[str, str], fetch: object) -> tuple[mock.MagicMock, str, str, int | None]:
        out, err = io.StringIO(), io.StringIO()
        code = None
        with (
            mock.patch.dict(os.environ, environ, clear=True),
            mock.patch.object(load_secrets, "fetch_secret_string", fetch),
            mock.patch.object(load_secrets.os, "execvpe") as execvpe,
            redirect_stdout(out),
            redirect_stderr(err),
        ):
            try:
                load_secrets.main(["--", "gunicorn", "app.main:app"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return execvpe, out.getvalue(), err.getvalue(), code

    def test_without_secret_id_execs_unchanged(self) -> None:
        fetch = mock.Mock()
        execvpe, out, err, code = self.run_main({"PATH": "/usr/bin"}, fetch)
        fetch.assert_not_called()
        execvpe.assert_called_once_with("gunicorn", ["gunicorn", "app.main:app"], {"PATH": "/usr/bin"})
        self.assertEqual((out, err, code), ("", "", None))

    def test_loads_secret_into_exec_environment_without_printing_values(self) -> None:
        fetch = mock.Mock(return_value=json.dumps({"DB_PASSWORD": VALUE}))
        execvpe, out, err, code = self.run_main({"APP_SECRETS_ID": "prod/api"}, fetch)
        fetch.assert_called_once_with("prod/api")
        env = execvpe.call_args.args[2]
        self.assertEqual(env["DB_PASSWORD"], VALUE)
        self.assertEqual(env["APP_SECRET_KEYS"], "DB_PASSWORD")
        self.assertIn("loaded 1 keys from 'prod/api': DB_PASSWORD", err)
        self.assertNotIn(VALUE, out + err)
        self.assertIsNone(code)

    def test_failure_exits_78_naming_secret_and_error_class(self) -> None:
        class EndpointConnectionError(Exception):
            pass

        fetch = mock.Mock(side_effect=EndpointConnectionError('Could not connect to "http://127.0.0.1:9/"'))
        execvpe, out, err, code = self.run_main({"APP_SECRETS_ID": "prod/api"}, fetch)
        execvpe.assert_not_called()
        self.assertEqual(code, 78)
        self.assertIn("cannot load secret 'prod/api' from Secrets Manager: EndpointConnectionError", err)

    def test_aws_error_reports_its_code_not_its_message(self) -> None:
        class ClientError(Exception):
            response = {"Error": {"Code": "AccessDeniedException", "Message": f"echo {VALUE}"}}

        fetch = mock.Mock(side_effect=ClientError("boom"))
        _execvpe, out, err, code = self.run_main({"APP_SECRETS_ID": "prod/api"}, fetch)
        self.assertEqual(code, 78)
        self.assertIn("ClientError (AccessDeniedException)", err)
        self.assertNotIn(VALUE, out + err)

    def test_malformed_secret_fails_without_echoing_it(self) -> None:
        fetch = mock.Mock(return_value=f"DB_PASSWORD={VALUE}")
        _execvpe, out, err, code = self.run_main({"APP_SECRETS_ID": "prod/api"}, fetch)
        self.assertEqual(code, 78)
        self.assertIn("SecretString is not JSON", err)
        self.assertNotIn(VALUE, out + err)


if __name__ == "__main__":
    unittest.main()
