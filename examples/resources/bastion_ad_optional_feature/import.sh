# An optional feature is imported by its name.
terraform import bastion_ad_optional_feature.recycle_bin "Recycle Bin Feature"
