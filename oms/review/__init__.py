"""Review (审单): rules as data, interceptions (拦截记录), blacklist and platform refund requests."""
