terraform {
  required_version = ">= 1.5"
  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = ">= 0.60.0"
    }
  }
}

provider "proxmox" {
  endpoint  = var.proxmox_endpoint
  api_token = var.proxmox_api_token # USER@REALM!TOKENID=SECRET, from TF_VAR_proxmox_api_token
  insecure  = var.proxmox_insecure
}
