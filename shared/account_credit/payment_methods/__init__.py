"""Payment methods: cards the provider holds, registered once per account."""
