class Security {
    SecurityFilterChain chain(HttpSecurity http) throws Exception {
        // ruleid: java.spring-csrf-disabled
        http.csrf().disable();
        // ok: java.spring-csrf-disabled
        http.cors();
        return http.build();
    }
}
