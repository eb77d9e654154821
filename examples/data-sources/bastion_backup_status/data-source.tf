# How fresh the Active Directory backups are, with PingCastle's 7-day limit
# instead of the tombstone lifetime.
data "bastion_backup_status" "priv" {
  max_age_days = 7
}

check "ad_backups" {
  assert {
    condition     = data.bastion_backup_status.priv.ok
    error_message = join("\n", data.bastion_backup_status.priv.warnings)
  }
}
