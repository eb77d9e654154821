# Stop managing priv-dc2 without demoting it (Terraform >= 1.7): the next
# apply forgets it and runs nothing on Windows. Delete its resource block and
# everything that refers to it, and add:
removed {
  from = bastion_domain_controller.dc2

  lifecycle {
    destroy = false
  }
}

# bastion_fsmo_roles can be let go the same way; its destroy would otherwise
# return the roles to holder_on_destroy.
removed {
  from = bastion_fsmo_roles.priv

  lifecycle {
    destroy = false
  }
}
