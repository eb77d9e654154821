# A feature already enabled in the forest is imported by its name.
import {
  to = bastion_ad_optional_feature.recycle_bin
  id = "Recycle Bin Feature"
}
