# One Proxmox VM per entry of var.vms, cloned from a cloud-init template and sized by provisio.
resource "proxmox_virtual_environment_vm" "vm" {
  for_each = var.vms

  name      = each.key
  node_name = coalesce(each.value.node, var.default_node)
  vm_id     = each.value.vmid
  tags      = distinct(concat(["provisio", each.value.role], each.value.tags))

  clone {
    vm_id = var.template_vm_id
    full  = true
  }

  agent {
    enabled = true
  }

  cpu {
    cores   = each.value.cores
    sockets = 1
    type    = var.cpu_type
  }

  memory {
    dedicated = each.value.memory_mib
    # The balloon minimum: the host may reclaim memory down to it under pressure (0 turns ballooning off).
    floating = coalesce(each.value.floating_memory_mib, each.value.memory_mib)
  }

  disk {
    datastore_id = var.datastore_id
    interface    = "scsi0"
    size         = each.value.disk_gib
    discard      = "on"
    iothread     = true
  }

  network_device {
    bridge  = var.bridge
    vlan_id = var.vlan_id
  }

  initialization {
    datastore_id = var.datastore_id
    user_account {
      username = var.ci_user
      keys     = var.ssh_public_keys
    }
    ip_config {
      ipv4 {
        address = try(var.ipv4[each.key].address, "dhcp")
        gateway = try(var.ipv4[each.key].gateway, null)
      }
    }
  }

  lifecycle {
    # Resizing is provisio's job; a template change must not replace running VMs.
    ignore_changes = [clone]
  }
}

output "vms" {
  description = "Name → node, VM id and first IPv4 address (for the Ansible inventory)."
  value = {
    for name, vm in proxmox_virtual_environment_vm.vm : name => {
      node = vm.node_name
      id   = vm.vm_id
      ipv4 = try(vm.ipv4_addresses[1][0], null)
    }
  }
}
