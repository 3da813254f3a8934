"""What an operator installs: the FreeSWITCH configuration rendered from fs_conf/ and dialplan/ (`ccctl fs render`)."""
