import CMPI
// Placeholder until the module lands.
let _placeholderWorld = cmpi_comm_world
