/* placeholder */
void nsenter_placeholder(void) {}
