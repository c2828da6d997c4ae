// Every command of the IPC contract, by its IPC name. Read by build.rs (which
// makes an `allow-<command>` permission of each), by `commands::COMMANDS`,
// and checked against capabilities/main.json by a test.
&[
    "get_setup",
    "probe_station",
    "trust_station_fingerprint",
    "trust_station_ca",
    "get_account",
    "sign_in",
    "sign_out",
    "check_code",
    "start_pairing",
    "retry_pairing",
    "dismiss_pairing",
    "list_pairings",
    "list_devices",
    "device_status",
    "reprovision",
    "history",
    "scan_frame",
    "pair_scanned",
    "dismiss_scanned",
]
