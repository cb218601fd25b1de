# Written by provisio: <request>.auto.tfvars.json, the request's VMs under `vms`. provisio runs each request
# in its own copy of this module (with its own state), so requests never see or destroy each other's VMs.
variable "vms" {
  description = "VMs sized by provisio, keyed by VM name."
  type = map(object({
    role                = string
    node                = optional(string)
    cores               = number
    memory_mib          = number
    floating_memory_mib = optional(number)
    disk_gib            = number
    vmid                = optional(number)
    tags                = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for name, vm in var.vms : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", name))])
    error_message = "VM names must be DNS labels (lower-case letters, digits and '-', at most 63)."
  }
  validation {
    condition     = alltrue([for vm in values(var.vms) : vm.cores >= 1 && vm.cores <= 128 && floor(vm.cores) == vm.cores])
    error_message = "cores must be a whole number from 1 to 128."
  }
  validation {
    condition     = alltrue([for vm in values(var.vms) : vm.memory_mib >= 256 && (vm.floating_memory_mib == null ? true : vm.floating_memory_mib <= vm.memory_mib)])
    error_message = "memory_mib must be at least 256, and floating_memory_mib at most memory_mib."
  }
  validation {
    condition     = alltrue([for vm in values(var.vms) : vm.disk_gib >= 1 && vm.disk_gib <= 65536])
    error_message = "disk_gib must be from 1 to 65536."
  }
}

variable "proxmox_endpoint" {
  description = "Proxmox VE API, e.g. https://pve01.example.com:8006/"
  type        = string
}

variable "proxmox_api_token" {
  description = "API token USER@REALM!TOKENID=SECRET (set TF_VAR_proxmox_api_token; never commit it)."
  type        = string
  sensitive   = true
}

variable "proxmox_insecure" {
  description = "Skip TLS verification (self-signed certificates only; prefer a CA)."
  type        = bool
  default     = false
}

variable "default_node" {
  description = "Node for VMs whose request names none."
  type        = string
}

variable "template_vm_id" {
  description = "VM id of the cloud-init template every VM is cloned from."
  type        = number
}

variable "datastore_id" {
  description = "Datastore for the VMs' disks."
  type        = string
  default     = "local-lvm"
}

variable "cpu_type" {
  description = "CPU type (x86-64-v2-AES keeps live migration between different hosts possible; host is fastest)."
  type        = string
  default     = "x86-64-v2-AES"
}

variable "bridge" {
  description = "Network bridge."
  type        = string
  default     = "vmbr0"
}

variable "vlan_id" {
  description = "VLAN tag, or null for none."
  type        = number
  default     = null
}

variable "ci_user" {
  description = "Cloud-init user."
  type        = string
  default     = "provisio"
}

variable "ssh_public_keys" {
  description = "SSH public keys for the cloud-init user (Ansible connects with them)."
  type        = list(string)
}

variable "ipv4" {
  description = "Cloud-init IPv4 per VM name (address/prefix and gateway); VMs not listed use DHCP."
  type        = map(object({ address = string, gateway = string }))
  default     = {}
}
